import { rmSync } from 'node:fs';
import { journalPathOf } from '../h5/rollback-journal.js';
import { fenceFileOf, wantFileOf, WriterFence } from '../h5/writer-fence.js';

/**
 * Deletes a dataset's single .h5 (and a crashed append's journal) under the file's write fence,
 * so it never races a writer: a writer mid-append holds the fence until its view is committed or
 * rolled back, and one that comes later finds no file (the caller stops the dataset's writers
 * first). Waits up to `waitSeconds` for a holder, asking a preview to let go (FILE_LOCKED after
 * that). With `folder` (the dataset's own folder, holding the .h5), removes that folder whole.
 *
 * The fence's lock file (which also records the file's owner) goes while the fence is held: a
 * taker already waiting on it then finds it removed and stops (WriterFence.acquire), and one that
 * comes later creates a new one, so two takers never hold two lock files of one path.
 */
export async function removeDatasetFile(h5Path: string, waitSeconds: number, folder?: string): Promise<void> {
  const fence = await WriterFence.acquire(h5Path, { waitSeconds });
  try {
    rmSync(h5Path, { force: true });
    rmSync(journalPathOf(h5Path), { force: true });
    if (folder) rmSync(folder, { recursive: true, force: true });
    rmSync(fenceFileOf(h5Path), { force: true });
    rmSync(wantFileOf(h5Path), { force: true });
  } finally {
    await fence?.release();
  }
}
