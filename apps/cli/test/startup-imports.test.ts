import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';

// `bdv --help` and a command's own --help pay only for commander and the vocabularies: HDF5, the
// PNG encoder, S3 and the stack readers load only in the action that needs them (issue 11: fixed
// cost of every command). Which modules load is checked, not how long they take. bin/bdv.js runs
// the bundle (docs/adr/011-cli-bundle.md), where our libraries are inlined under hashed chunk
// names: the external heavy packages are checked there, and our libraries' own boundaries in the
// unbundled dist/ (the bundle keeps the same dynamic-import boundaries).

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'bdv.js');
const LAUNCHER = join(here, '..', 'bin', 'bdv');
const DIST_MAIN = join(here, '..', 'dist', 'main.js');
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

function modulesLoadedBy(args: string[], expectStatus = 0, entry = DIST_MAIN): string[] {
  const log = join(dir.path, `${entry === BIN ? 'bin' : 'dist'}_${args.join('_').replace(/\W/g, '')}.log`);
  const r = spawnSync(process.execPath, ['--import', HOOK, entry, ...args], {
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

  it('bin/bdv.js runs the fresh bundle, which loads none of the heavy libraries for --help', () => {
    const loaded = modulesLoadedBy(['convert', '--help'], 0, BIN);
    expect(loaded.some((url) => url.endsWith('/apps/cli/bundle/bdv.js'))).toBe(true);
    expect(loaded.filter((url) => /\/dist\//.test(url))).toEqual([]);
    expect(loaded.filter((url) => HEAVY.some((re) => re.test(url)))).toEqual([]);
  });

  it('bin/bdv.js runs the bundle only when it is newer than every compile of what it holds, dist/ otherwise', () => {
    // A copy of bin/bdv.js in a tree of stand-ins (the real bundle is shared with tests running
    // alongside): each entry prints which one ran.
    const tree = join(dir.path, 'tree');
    const file = (path: string, text: string) => {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      writeFileSync(join(tree, path), text);
      return join(tree, path);
    };
    file('package.json', '{ "type": "module" }');
    const bin = file('apps/cli/bin/bdv.js', readFileSync(BIN, 'utf8'));
    const bundle = file('apps/cli/bundle/bdv.js', "console.log('bundle');");
    file('apps/cli/dist/main.js', "console.log('dist');");
    const libInfo = file('libs/bdv/dist/.tsbuildinfo', '{}');
    const cliInfo = file('apps/cli/dist/.tsbuildinfo', '{}');
    const ran = () => spawnSync(process.execPath, [bin], { encoding: 'utf8' }).stdout.trim();
    const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

    at(libInfo, 1000);
    at(cliInfo, 1000);
    at(bundle, 2000);
    expect(ran()).toBe('bundle');
    at(libInfo, 3000); // a library compiled after the bundle was made
    expect(ran()).toBe('dist');
    at(bundle, 3000);
    expect(ran()).toBe('bundle');
    // The API and the workers are not in the bundle: compiling them leaves it fresh.
    const apiInfo = file('apps/api/dist/.tsbuildinfo', '{}');
    at(apiInfo, 3500);
    expect(ran()).toBe('bundle');
    at(cliInfo, 4000);
    expect(ran()).toBe('dist');
    // Said only when asked (it skews a measurement by ~0.1 s).
    const told = spawnSync(process.execPath, [bin], {
      encoding: 'utf8',
      env: { ...process.env, BDV_DEBUG: '1' },
    });
    expect(told.stderr).toBe(
      'bdv: apps/cli was compiled after the bundle: running dist/ (npm run build bundles it)\n',
    );
    rmSync(bundle);
    expect(ran()).toBe('dist');
  });

  it('bin/bdv starts the local commands without NODE_EXTRA_CA_CERTS, the API commands with it', () => {
    // Node warns at start when the file that variable names cannot be read: the warning shows
    // whether the process was started with it. Run through a link, as npm installs the command.
    const linked = join(dir.path, 'linked-bdv');
    symlinkSync(LAUNCHER, linked);
    const run = (args: string[]) =>
      spawnSync(linked, args, {
        encoding: 'utf8',
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: join(dir.path, 'no-such-bundle.pem'),
          BDV_API_URL: 'http://127.0.0.1:9',
        },
      });
    const started = (args: string[]) => {
      const r = run(args);
      return { ca: r.stderr.includes('Ignoring extra certs'), out: r.stdout, status: r.status };
    };
    expect(started(['--version'])).toEqual({ ca: false, out: '0.1.0\n', status: 0 });
    for (const local of [['--help'], ['convert', '--help'], ['verify', '--help'], ['info', '--help']])
      expect(started(local)).toMatchObject({ ca: false, status: 0 });
    // the API's commands keep it: a facility's own CA signs the API's TLS certificate
    for (const remote of [['status'], ['submit', '--help']]) expect(started(remote).ca).toBe(true);
  });

  it('bdv info loads HDF5 (the recorder sees it) and not the writer, XML or PNG code', () => {
    // Not an HDF5 file: info loads h5wasm, then fails.
    const loaded = modulesLoadedBy(['info', join(here, '..', '..', '..', 'package.json')], 1);
    expect(loaded.some((url) => /\/h5wasm\//.test(url))).toBe(true);
    // the build's copy of h5wasm with its module in a .wasm file (docs/adr/014), not the 4 MB
    // string, and the twin of it whose heap starts with HDF5 initialised (docs/adr/026)
    expect(loaded.filter((url) => /\/hdf5_util[.\w]*\.js$/.test(url))).toEqual([
      expect.stringMatching(/\/libs\/bdv\/dist\/h5wasm\/hdf5_util\.initialised\.js$/),
    ]);
    // and only that: bdv info reads HDF5, it does not write PNGs or XML
    expect(loaded.filter((url) => /\/fast-png\/|\/libs\/bdv\/dist\/index\.js$/.test(url))).toEqual([]);
  });
});
