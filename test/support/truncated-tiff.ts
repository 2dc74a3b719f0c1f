import { execFileSync } from 'node:child_process';
import { PYTHON } from './oracle.js';

/**
 * A 3-page uint16 TIFF (tifffile) whose header promises 30x30 planes and whose last page is
 * `lastRows` rows: its header passes every check, and it fails only when that page is read.
 */
export function writeTruncatedTiff(path: string, lastRows: number): void {
  execFileSync(PYTHON, [
    '-c',
    `import numpy as np, tifffile
with tifffile.TiffWriter(${JSON.stringify(path)}) as t:
    for i, rows in enumerate((30, 30, ${lastRows})): t.write(np.full((rows, 30), 100 + i, np.uint16))`,
  ]);
}
