import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, tempDir } from '../../../test/support/oracle.js';
import { FileByteSource, openStackFile } from '../src/index.js';

// A file bdv cannot read says why and what to do, as the .npy reader does for its dtypes.

const dir = tempDir('bdv-advice-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());

/** A 2x4x4 grayscale TIFF of numpy dtype `dtype`, written by tifffile. */
function tiffOf(path: string, dtype: string): string {
  execFileSync(PYTHON, [
    '-c',
    "import sys, numpy, tifffile; tifffile.imwrite(sys.argv[1], numpy.zeros((2, 4, 4), sys.argv[2]), photometric='minisblack')",
    path,
    dtype,
  ]);
  return path;
}

const ADVICE = "save the stack as uint16 first (Fiji: Image > Type > 16-bit; numpy/tifffile: a.astype('<u2')";

describe('what a refused input says', () => {
  it('gives a TIFF of signed, float or 32-bit samples the advice a .npy gets', async () => {
    await expect(openStackFile(tiffOf(p('signed.tif'), '<i2'))).rejects.toThrow(
      `${p('signed.tif')}: page 0 holds 16-bit signed samples, not unsigned 16-bit (uint16), which BDV stores: ${ADVICE}`,
    );
    await expect(openStackFile(tiffOf(p('float.tif'), '<f4'))).rejects.toThrow(
      `page 0 holds 32-bit float samples, not unsigned 16-bit (uint16), which BDV stores: ${ADVICE}`,
    );
    await expect(openStackFile(tiffOf(p('wide.tif'), '<u4'))).rejects.toThrow(
      `page 0 has 32-bit samples, not unsigned 16-bit (uint16), which BDV stores: ${ADVICE}`,
    );
  });

  // Write-only for everyone, root included (procfs checks its own modes).
  it.skipIf(!existsSync('/proc/sys/vm/compact_memory'))(
    'says "permission denied" of a file it may not read',
    async () => {
      await expect(FileByteSource.open('/proc/sys/vm/compact_memory')).rejects.toThrow(
        '/proc/sys/vm/compact_memory: permission denied (cannot read it)',
      );
    },
  );

  it('says a parent that is a file is not a folder', async () => {
    writeFileSync(p('file'), 'not a folder');
    await expect(FileByteSource.open(join(p('file'), 'x.npy'))).rejects.toThrow(
      'no such file (a parent is not a folder)',
    );
  });
});
