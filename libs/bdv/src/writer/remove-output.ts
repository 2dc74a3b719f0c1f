import { rmSync } from 'node:fs';
import { journalPathOf } from '../h5/rollback-journal.js';
import { fenceFileOf, wantFileOf, WriterFence } from '../h5/writer-fence.js';

/**
 * Deletes a dataset's single .h5 (and a crashed append's journal) under the file's write fence,
 * so it never races a writer: a writer mid-append holds the fence until its view is committed or
 * rolled back, and one that starts later waits for the fence and then finds no file (the caller
 * stops the dataset's writers first). Waits up to `waitSeconds` for a holder, asking a preview to
 * let go (FILE_LOCKED after that). The fence's own lock file goes last, once released: it also
 * records which dataset owned the file. (A taker that opened the old lock file just before it goes
 * can then hold it while a later one creates a new one: writers are stopped by then, and a preview
 * finds the file gone.)
 */
export async function removeDatasetFile(h5Path: string, waitSeconds: number): Promise<void> {
  const fence = await WriterFence.acquire(h5Path, { waitSeconds });
  try {
    rmSync(h5Path, { force: true });
    rmSync(journalPathOf(h5Path), { force: true });
  } finally {
    await fence?.release();
  }
  rmSync(fenceFileOf(h5Path), { force: true });
  rmSync(wantFileOf(h5Path), { force: true });
}
