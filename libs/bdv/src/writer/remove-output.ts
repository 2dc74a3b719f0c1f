import { rmSync } from 'node:fs';
import { journalPathOf } from '../h5/rollback-journal.js';
import { fenceFileOf, wantFileOf, WriterFence } from '../h5/writer-fence.js';

/**
 * Deletes a dataset's single .h5 (and a crashed append's journal) under the file's write fence,
 * so it never races a writer: a writer mid-append holds the fence until its view is committed or
 * rolled back, and one that starts later finds the fence taken (FILE_LOCKED) or, after us, no file.
 * Waits up to `waitSeconds` for a holder (FILE_LOCKED after that). The fence's own lock file goes
 * last, once released: it also records which dataset owned the file.
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
