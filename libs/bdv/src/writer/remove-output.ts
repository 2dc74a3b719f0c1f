import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { journalPathOf } from '../h5/rollback-journal.js';
import { fenceFileOf, LockFileRemoved, wantFileOf, WriterFence } from '../h5/writer-fence.js';

/**
 * Deletes a dataset's single .h5 (and a crashed append's journal) under the file's write fence,
 * so it never races a writer: a writer mid-append holds the fence until its view is committed or
 * rolled back, and one that comes later finds no file (the caller stops the dataset's writers
 * first). Waits up to `waitSeconds` for a holder, asking a preview to let go (FILE_LOCKED after
 * that). With `folder` (the dataset's own folder, holding the .h5), removes what it holds too.
 *
 * The fence's lock file (which also records the file's owner) goes last, still under the fence:
 * while anything it guards is there, every other taker waits on it; one that waited finds it
 * removed (WriterFence.acquire), and one that comes later creates a new one in a folder with
 * nothing left to guard. A deletion that waited while another removed everything is done.
 */
export async function removeDatasetFile(h5Path: string, waitSeconds: number, folder?: string): Promise<void> {
  const lock = fenceFileOf(h5Path);
  let fence: WriterFence | undefined;
  try {
    fence = await WriterFence.acquire(h5Path, { waitSeconds });
  } catch (error) {
    if (error instanceof LockFileRemoved) return;
    throw error;
  }
  try {
    rmSync(h5Path, { force: true });
    rmSync(journalPathOf(h5Path), { force: true });
    for (const name of folder && existsSync(folder) ? readdirSync(folder) : []) {
      const path = join(folder!, name);
      if (resolve(path) !== resolve(lock)) rmSync(path, { recursive: true, force: true });
    }
    rmSync(wantFileOf(h5Path), { force: true });
    rmSync(lock, { force: true });
  } finally {
    await fence?.release();
  }
  if (folder) removeEmptyFolder(folder);
}

/** Removes `folder` unless someone put something in it again (a taker that came after the lock file went). */
function removeEmptyFolder(folder: string): void {
  try {
    rmdirSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw error;
  }
}
