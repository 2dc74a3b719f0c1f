import { isStagedFileOf } from '@bdv-cluster/bdv';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Files are built under hidden temporary names in their dataset's folder and renamed into place
 * when whole (libs/bdv: staged partitions `.<partition>.h5.<random>.tmp`, new files
 * `.<file>.h5.<pid>-<time>.tmp`). A writer killed while building one leaves it behind — up to a
 * whole partition per kill, held until someone deletes it. At finalize every view has settled, so
 * any such file in the folder is abandoned: a writer still building one lost its job long ago
 * and discards its output anyway. Only this dataset's temporary names go (`isStagedFileOf`), not
 * any hidden `.tmp` (an editor's, a copy tool's). Returns the names removed.
 */
export function removeAbandonedScratch(h5Path: string): string[] {
  const folder = dirname(h5Path);
  const abandoned = readdirSync(folder).filter((name) => isStagedFileOf(h5Path, name));
  for (const name of abandoned) rmSync(join(folder, name), { force: true });
  return abandoned;
}
