import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';

// `bdv --help` and a command's own --help pay only for commander and the vocabularies: HDF5, the
// PNG encoder, S3 and the stack readers load only in the action that needs them (issue 11: fixed
// cost of every command). Which modules load is checked, not how long they take.

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'bdv.js');
const HOOK = join(here, 'support', 'record-imports.mjs');
const dir = tempDir('bdv-startup-');
afterAll(() => dir.remove());

const HEAVY = [
  /\/h5wasm\//,
  /\/@aws-sdk\//,
  /\/bullmq\//,
  /\/ioredis\//,
  /\/fast-png\//,
  /\/geotiff\//,
  /\/libs\/bdv\/dist\/index\.js$/,
  /\/libs\/convert\//,
  /\/libs\/stacks\/dist\/index\.js$/,
];

function modulesLoadedBy(args: string[], expectStatus = 0): string[] {
  const log = join(dir.path, `${args.join('_').replace(/\W/g, '')}.log`);
  const r = spawnSync(process.execPath, ['--import', HOOK, BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, IMPORT_LOG: log },
  });
  expect(r.status, r.stderr).toBe(expectStatus);
  return readFileSync(log, 'utf8').trim().split('\n');
}

describe('bdv start-up', () => {
  for (const args of [['--help'], ['convert', '--help'], ['preview', '--help'], ['info', '--help']]) {
    it(`bdv ${args.join(' ')} loads none of the heavy libraries`, () => {
      const loaded = modulesLoadedBy(args);
      expect(loaded.some((url) => url.includes('commander'))).toBe(true);
      expect(loaded.filter((url) => HEAVY.some((re) => re.test(url)))).toEqual([]);
    });
  }

  it('bdv info loads HDF5 (the recorder sees it) and not the writer, XML or PNG code', () => {
    // Not an HDF5 file: info loads h5wasm, then fails.
    const loaded = modulesLoadedBy(['info', join(here, '..', '..', '..', 'package.json')], 1);
    expect(loaded.some((url) => /\/h5wasm\//.test(url))).toBe(true);
    // and only that: bdv info reads HDF5, it does not write PNGs or XML
    expect(loaded.filter((url) => /\/fast-png\/|\/libs\/bdv\/dist\/index\.js$/.test(url))).toEqual([]);
  });
});
