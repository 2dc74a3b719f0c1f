import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BdvError } from '../errors.js';
import { endHolder, lockedFileIsAt, lockFile, type LockHolder } from './flock-holder.js';

/** The hidden lock file beside a dataset file; it also records which dataset owns the file. */
export function fenceFileOf(h5Path: string): string {
  return join(dirname(h5Path), `.${basename(h5Path)}.lock`);
}

/**
 * The hidden file a writer waiting for the fence touches (its mtime: when it last asked), so that a
 * long reader lets it in; the writer deletes it once it holds the fence.
 */
export function wantFileOf(h5Path: string): string {
  return join(dirname(h5Path), `.${basename(h5Path)}.want`);
}

/**
 * How long a writer's ask counts. A waiting writer asks again every ASK_AGAIN_MS; one that died
 * while waiting stops readers' pauses this long after.
 */
const WANT_FRESH_MS = 15_000;

/**
 * How often a waiting taker touches its ask again: well inside WANT_FRESH_MS, and well inside a
 * wait, since another taker whose wait ended removes the one ask file they share.
 */
const ASK_AGAIN_MS = 1_000;

/** How many times a taker follows a lock file replaced under it before it gives up. */
const MAX_STALE_ATTEMPTS = 5;

/**
 * How long a writer waits for the fence before FILE_LOCKED. A preview reader that sees the ask lets
 * go within its holdMs (1 s) plus one slab; a writer holding it for a whole view is usually longer,
 * and the caller's retry (the cluster's) or the user (the CLI's) takes it from there.
 */
export const WRITER_WAIT_SECONDS = 5;

export interface FenceOptions {
  /** How long to wait for the holder to let go before FILE_LOCKED; 0 fails at once. */
  waitSeconds?: number;
  /** A preview reader: it lets go when asked and does not ask itself. */
  reader?: boolean;
  /** Checked while waiting (an AbortSignal will do): once aborted, the wait ends FILE_LOCKED. */
  cancel?: { readonly aborted: boolean };
}

/**
 * The exclusive right to write one dataset file, held by an OS file lock that a pause cannot
 * outlive: `flock <lockfile> cat`, a child whose stdin is a pipe from this process. A writer that
 * is stopped (SIGSTOP, a frozen VM, a long GC pause) keeps the lock, so nobody writes under its
 * stale HDF5 state; a writer that dies (even SIGKILL) closes the pipe, `cat` ends and the lock is
 * free within milliseconds. A Redis lease cannot do this: it expires while the holder sleeps.
 */
export class WriterFence {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly child: LockHolder,
  ) {}

  /**
   * Takes the fence of `h5Path`, waiting up to `waitSeconds` for its holder to let go, or fails
   * with FILE_LOCKED. Off Linux (no flock(1)), returns an inert fence: single-host development only.
   * Every taker asks for the fence while it waits (wantFileOf), so that a preview reading the file
   * lets go between two slabs, except a `reader`: it is the one that lets go, and its asks would
   * make other readers pause for nobody. A taker whose lock file was removed while it waited ends
   * STATE (the dataset's files were deleted), or takes the new lock file if one took its place.
   */
  static async acquire(
    h5Path: string,
    { waitSeconds = WRITER_WAIT_SECONDS, reader = false, cancel }: FenceOptions = {},
  ): Promise<WriterFence | undefined> {
    if (process.platform !== 'linux') return undefined;
    const path = fenceFileOf(h5Path);
    mkdirSync(dirname(path), { recursive: true });
    const unwritable = existsSync(path) ? undefined : whyNotWritable(dirname(path));
    if (unwritable && reader) return undefined;
    if (unwritable)
      throw new BdvError('STATE', `cannot write ${h5Path}: its folder is ${unwritable}`, 'output');
    const asking = reader || waitSeconds <= 0 ? undefined : new Ask(h5Path);
    const deadline = Date.now() + waitSeconds * 1000;
    try {
      for (let attempt = 1; ; attempt++) {
        if (cancel?.aborted)
          throw new BdvError('FILE_LOCKED', `stopped waiting for ${h5Path}: cancelled`, 'output');
        const left = waitSeconds > 0 ? Math.max(0.001, (deadline - Date.now()) / 1000) : 0;
        const child = await lockFile(h5Path, path, left, waitSeconds, cancel);
        let locked: ReturnType<typeof lockedFileIsAt>;
        try {
          locked = lockedFileIsAt(child, path);
        } catch (error) {
          await endHolder(child);
          throw new BdvError('STATE', `cannot lock ${h5Path}: ${(error as Error).message}`, 'output');
        }
        if (locked === 'yes') return new WriterFence(path, child);
        // The lock file we waited on was removed (a deletion removes it last, holding the fence):
        // a lock on a file no longer at the path fences nothing, since the next taker creates a
        // new one. Let go; take the new file if there is one, else the file is gone.
        await endHolder(child);
        if (locked === 'removed') throw new LockFileRemoved(h5Path);
        if (attempt >= MAX_STALE_ATTEMPTS) {
          throw new BdvError(
            'STATE',
            `cannot lock ${h5Path}: its lock file ${path} was replaced ${attempt} times while waiting`,
            'output',
          );
        }
      }
    } finally {
      asking?.withdraw();
    }
  }

  /** Whether a writer asked for `h5Path`'s fence lately (a reader holding it should let go). */
  static wanted(h5Path: string): boolean {
    try {
      return statSync(wantFileOf(h5Path)).mtimeMs >= Date.now() - WANT_FRESH_MS;
    } catch {
      return false; // never asked (or the folder is gone): nobody waits
    }
  }

  /** False if the lock holder died under us (e.g. killed): the caller must stop writing. */
  get held(): boolean {
    return !this.released && this.child.exitCode === null && this.child.signalCode === null;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await endHolder(this.child);
  }
}

/**
 * Why this process may not create files in `folder` ('read-only', 'not writable for this user'),
 * or undefined. A reader that may not, where no lock file is (an archive on a read-only share, a
 * copy of the .h5 and .xml alone), needs no fence: every writer creates that file before it writes
 * and keeps it, so none is writing there. A writer is told in words (flock's "exited with 66" was
 * all it said).
 */
function whyNotWritable(folder: string): string | undefined {
  try {
    accessSync(folder, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS'
      ? 'on a read-only file system'
      : 'not writable for this user';
  }
}

/** A taker's lock file was removed while it waited: the dataset's files were deleted meanwhile. */
export class LockFileRemoved extends BdvError {
  constructor(h5Path: string) {
    super('STATE', `${h5Path} was removed while waiting for it`, 'output');
  }
}

/** Records which dataset owns a file (inside its lock file), so nobody else ever appends to it. */
export function claimFile(h5Path: string, owner: string): void {
  writeFileSync(fenceFileOf(h5Path), `${owner}\n`);
}

/**
 * Refuses to replace or resume a file that a cluster dataset writes (its lock file names it): the
 * cluster would go on appending its views to whatever took its place. A file of the CLI's records
 * no owner; a lock file left without its .h5 protects nothing and is not in the way.
 */
export function assertUnclaimed(h5Path: string): void {
  const lock = fenceFileOf(h5Path);
  if (!existsSync(h5Path) || !existsSync(lock)) return;
  const recorded = readFileSync(lock, 'utf8').trim();
  if (recorded) {
    throw new BdvError(
      'FILE_EXISTS',
      `${basename(h5Path)} is written by the cluster's dataset ${recorded} (so says ${lock}). ` +
        `If that dataset still exists, delete it through the API (bdv cancel ${recorded} --purge); ` +
        `if this file is a copy, or that dataset is gone, remove ${lock} and run again`,
      'output',
    );
  }
}

/** Refuses to append to a file that another dataset created. */
export function assertOwner(h5Path: string, owner: string): void {
  const lock = fenceFileOf(h5Path);
  const recorded = existsSync(lock) ? readFileSync(lock, 'utf8').trim() : '';
  if (recorded !== owner) {
    throw new BdvError(
      'FILE_EXISTS',
      `${basename(h5Path)} exists but was not created for this dataset (${recorded ? `owner ${recorded}` : 'no owner recorded'}): refusing to append to it`,
      'output',
    );
  }
}

/**
 * A taker's ask for the fence while it waits (see wantFileOf): touched at once (the holder may be
 * a reader that lets go between slabs) and again every ASK_AGAIN_MS, so that a wait longer than
 * WANT_FRESH_MS stays fresh. Withdrawn when the wait ends either way: a taker that got the fence
 * needs nobody to pause, and one that gave up must not leave readers pausing for nobody (another
 * taker still waiting touches it again within ASK_AGAIN_MS). Best effort: without it, readers just
 * do not pause.
 */
class Ask {
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly h5Path: string) {
    this.touch();
    this.timer = setInterval(() => this.touch(), ASK_AGAIN_MS);
    this.timer.unref();
  }

  withdraw(): void {
    clearInterval(this.timer);
    try {
      rmSync(wantFileOf(this.h5Path), { force: true });
    } catch {
      // left behind, it stops counting after WANT_FRESH_MS
    }
  }

  private touch(): void {
    // No lock file, no holder to ask (and a deletion that just removed it would find its folder
    // holding an ask again).
    if (!existsSync(fenceFileOf(this.h5Path))) return;
    try {
      writeFileSync(wantFileOf(this.h5Path), '');
    } catch {
      // a read-only or vanished folder: the write itself will say so
    }
  }
}
