import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStacks, tempDir } from '../../../test/support/oracle.js';
import { bdv } from './cli-run.js';

// What a new user meets when a path or an option is wrong: one line that names what they typed,
// says what is wrong and what to do; never a file they did not name, nor the stack-trace hint.

const dir = tempDir('bdv-user-errors-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'bdv.js');

beforeAll(() => {
  mkdirSync(p('tiles'));
  makeStacks(dir.path, [
    { path: p('ok.npy'), shape: [3, 8, 8], seed: 1 },
    { path: p('ok.tif'), shape: [3, 8, 8], seed: 2, format: 'tiff' },
    ...[0, 1].flatMap((time) =>
      [0, 1, 2, 3].map((tile) => ({ path: p(`tiles/t${time}_s${tile}.npy`), shape: [2, 4, 4], seed: tile })),
    ),
  ]);
});

/** The run failed with exactly this one line on stderr. */
function failsWith(args: string[], line: string | RegExp): void {
  const r = bdv(args, dir.path);
  expect(r.status, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(typeof line === 'string' ? `bdv: error: ${line}` : line);
}

const convert = (...args: string[]) => ['convert', ...args, '--progress', 'none'];
// Folders no user may write into, root included (procfs checks its own modes).
const linuxOnly = process.platform === 'linux' && existsSync('/proc/sys/vm') ? it : it.skip;

describe('output paths refused up front', () => {
  it('names a parent that is a file, however deep the missing folders below it', () => {
    failsWith(
      convert('ok.npy', '-o', 'ok.npy/x.h5'),
      `${p('ok.npy/x.h5')}: a parent (${p('ok.npy')}) is not a folder; choose another -o`,
    );
    failsWith(
      convert('ok.npy', '-o', 'ok.npy/sub/x.h5'),
      `${p('ok.npy/sub/x.h5')}: a parent (${p('ok.npy')}) is not a folder; choose another -o`,
    );
    symlinkSync(p('nowhere'), p('dangling'));
    failsWith(
      convert('ok.npy', '-o', 'dangling/sub/x.h5'),
      `${p('dangling/sub/x.h5')}: a parent (${p('dangling')}) is a symbolic link to nothing; choose another -o`,
    );
  });

  linuxOnly('says "permission denied" of the folder, never a temporary file, and does not hang', () => {
    for (const output of ['/proc/sys/vm/x.h5', '/proc/sys/vm/sub/x.h5']) {
      // Bounded: Node's recursive mkdir spun forever under /proc/sys/vm.
      const r = spawnSync(process.execPath, [BIN, ...convert('ok.npy', '-o', output)], {
        cwd: dir.path,
        encoding: 'utf8',
        env: { ...process.env, BDV_DEBUG: '' },
        timeout: 30_000,
      });
      expect(r.signal, 'still running after 30 s').toBeNull();
      expect(r.stderr).toBe(
        'bdv: error: cannot write into /proc/sys/vm: permission denied; choose another -o\n',
      );
      expect(r.status).toBe(1);
    }
  });

  linuxOnly('says an input it may not read is "permission denied"', () => {
    failsWith(
      convert('/proc/sys/vm/compact_memory', '--format', 'raw', '--shape', '1,1,1', '-o', 'ro-in.h5'),
      '/proc/sys/vm/compact_memory: permission denied (cannot read it)',
    );
  });

  it('refuses a directory at the output name, with or without --overwrite/--resume, removing nothing', () => {
    mkdirSync(p('isdir.h5'));
    writeFileSync(p('isdir.h5/keep.txt'), 'mine');
    for (const extra of [[], ['--overwrite'], ['--resume']])
      failsWith(
        convert('ok.npy', '-o', 'isdir.h5', ...extra),
        `${p('isdir.h5')} is a directory, not an .h5 file: give a file name, e.g. -o ${p('isdir.h5')}/<name>.h5 (nothing was changed)`,
      );
    expect(readdirSync(p('isdir.h5'))).toEqual(['keep.txt']);
    // Its XML's name taken by a folder: refused too, before --overwrite could remove it.
    mkdirSync(p('xmldir.xml'));
    failsWith(convert('ok.npy', '-o', 'xmldir.h5', '--overwrite'), /xmldir\.xml is a directory, where the/);
    expect(existsSync(p('xmldir.xml'))).toBe(true);
    expect(existsSync(p('xmldir.h5'))).toBe(false);
  });
});

describe('quick-form options', () => {
  it('refuses raw-only options for .npy and TIFF input, and still checks --dtype and --shape', () => {
    failsWith(
      convert('ok.npy', '--byte-order', 'big', '-o', 'a.h5'),
      '--byte-order applies to raw input only (ok.npy is .npy, which records its layout in its header): leave it out, or give --format raw to read the file as raw samples',
    );
    failsWith(
      convert('ok.tif', '--header-bytes', '100', '--byte-order', 'little', '-o', 'a.h5'),
      /^bdv: error: --byte-order and --header-bytes apply to raw input only \(ok\.tif is TIFF,/,
    );
    failsWith(
      convert('ok.npy', '--dtype', 'uint8', '-o', 'a.h5'),
      `${p('ok.npy')}: samples are uint16, expected uint8`,
    );
    failsWith(
      convert('ok.npy', '--shape', '1,2,3', '-o', 'a.h5'),
      `${p('ok.npy')}: shape (z,y,x) is (3, 8, 8), expected (1, 2, 3)`,
    );
    expect(existsSync(p('a.h5'))).toBe(false);
  });

  it('says how to keep an output file name the dataset name may not be, and converts with --name', () => {
    mkdirSync(p('out dir'));
    failsWith(
      convert('ok.npy', '-o', 'out dir/Ergebnis ü.h5'),
      /the output file's name \('Ergebnis ü'\).*: pass --name <a simple name> \(the file may keep its name\)$/,
    );
    const r = bdv(convert('ok.npy', '-o', 'out dir/Ergebnis ü.h5', '--name', 'ergebnis'), dir.path);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(p('out dir/Ergebnis ü.xml'))).toBe(true);
  });

  it('quotes a number it cannot read and lists the attributes labels are for', () => {
    failsWith(
      convert('ok.npy', '-o', 'e.h5', '--exposure-time', 'fast'),
      '--exposure-time: expected a number like 0.02; got "fast"',
    );
    failsWith(
      convert('ok.npy', '-o', 'e.h5', '--labels', 'chanel=488,561'),
      '--labels chanel=488,561: "chanel" is not an attribute; labels are given to illumination, channel, tile, angle',
    );
  });

  it('counts the files past the first few that share a problem', () => {
    const r = bdv(convert('tiles', '-p', 't{time}_*.npy', '-o', 'dup.h5'), dir.path);
    expect(r.status).toBe(1);
    expect(r.stderr.match(/duplicate view/g)).toHaveLength(3);
    expect(r.stderr).toMatch(/; and 3 more of other files\n$/);
  });

  it('lists every extension a folder is searched for', () => {
    mkdirSync(p('empty'));
    failsWith(convert('empty', '-o', 'e.h5'), 'empty: no .npy/.raw/.bin/.tif/.tiff files in this folder');
  });

  it("prefixes commander's own errors with bdv:", () => {
    const r = bdv(convert('ok.npy', '-o', 'c.h5', '--overwrite', '--resume'), dir.path);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^bdv: error: option '--overwrite' cannot be used with option '--resume'/);
  });
});

describe('bdv verify', () => {
  it('says an output without its XML is a conversion that did not finish, and how to finish it', () => {
    expect(bdv(convert('ok.npy', '-o', 'stopped.h5'), dir.path).status).toBe(0);
    rmSync(p('stopped.xml'));
    failsWith(
      ['verify', 'stopped.xml'],
      `${p('stopped.xml')}: no such file, but stopped.h5 and stopped.checksums.json are there: the conversion into ${p('stopped.h5')} did not finish (the XML is written last); run the same bdv convert command with --resume to finish it, then verify`,
    );
    failsWith(['verify', 'never.xml'], `${p('never.xml')}: no such file`);
  });
});
