import { copyFileSync, linkSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStacks, tempDir } from '../../../test/support/oracle.js';
import { bdv } from './cli-run.js';

const dir = tempDir('bdv-cli-self-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());
beforeAll(() => makeStacks(dir.path, [{ path: p('stack.npy'), shape: [4, 16, 16], seed: 3 }]));

describe('an input that is also an output', () => {
  it('is refused before anything is replaced, under any name of it, with --overwrite or --resume', () => {
    mkdirSync(p('out'));
    const original = readFileSync(p('stack.npy'));
    // The input named as the output, as its XML, and as one of its partitions (a hard link).
    copyFileSync(p('stack.npy'), p('out/inp.h5'));
    copyFileSync(p('stack.npy'), p('out/x.xml'));
    linkSync(p('stack.npy'), p('out/part-t00000-s00.h5'));
    const cases: [string[], string, RegExp][] = [
      [
        [p('out/inp.h5'), '--format', 'npy', '-o', p('out/inp.h5'), '--overwrite'],
        p('out/inp.h5'),
        /also the output;/,
      ],
      [
        [p('out/x.xml'), '--format', 'npy', '-o', p('out/x.h5'), '--overwrite'],
        p('out/x.xml'),
        /a file of the output \(.*x\.xml\)/,
      ],
      [
        [p('stack.npy'), '-o', p('out/part.h5'), '--layout', 'partitioned', '--resume'],
        p('stack.npy'),
        /a file of the output \(.*part-t00000-s00\.h5\)/,
      ],
    ];
    for (const [args, input, why] of cases) {
      const run = bdv(['convert', ...args, '--progress', 'none']);
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain(`${input}: is an input and also`);
      expect(run.stderr).toMatch(why);
      expect(readFileSync(input)).toEqual(original);
    }
  });
});
