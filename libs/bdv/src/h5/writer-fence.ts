import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BdvError } from '../errors.js';

/** flock(1)'s exit code when the lock is taken (chosen: its default 1 is also a failing command's). */
const BUSY_EXIT = 75;

/** The hidden lock file beside a dataset file; it also records which dataset owns the file. */
export function fenceFileOf(h5Path: string): string {
  return join(dirname(h5Path), `.${basename(h5Path)}.lock`);
}

/**
 * The hidden file a writer that found the fence taken touches (its mtime: when it last asked), so
 * that a long reader lets it in; the writer deletes it once it holds the fence.
 */
export function wantFileOf(h5Path: string): string {
  return join(dirname(h5Path), `.${basename(h5Path)}.want`);
}

/**
 * How long a writer's ask counts. Busy writers ask again every 0.5–1.5 s (the cluster's retry
 * delay); one that gave up or died stops readers' pauses this long after.
 */
const WANT_FRESH_MS = 15_000;

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
    private readonly child: ReturnType<typeof spawn>,
  ) {}

  /**
   * Takes the fence of `h5Path`, or fails at once with FILE_LOCKED when another process holds it.
   * Off Linux (no flock(1)), returns an inert fence: single-host development only.
   * `waitSeconds` > 0 waits that long for the holder to let go (a preview reader catches the gap
   * between two appends, which a retry loop would miss) before FILE_LOCKED. A `writer` that finds
   * the fence taken says so beside it (wantFileOf), so that a long read pauses for it.
   */
  static async acquire(
    h5Path: string,
    waitSeconds = 0,
    { writer = false }: { writer?: boolean } = {},
  ): Promise<WriterFence | undefined> {
    if (process.platform !== 'linux') return undefined;
    const path = fenceFileOf(h5Path);
    mkdirSync(dirname(path), { recursive: true });
    if (writer && waitSeconds > 0) askFor(h5Path);
    // Its own process group, so a terminal's ^C / ^Z to the writer does not reach the lock holder.
    const child = spawn(
      'flock',
      [
        '--exclusive',
        ...(waitSeconds > 0 ? ['--timeout', waitSeconds.toFixed(3)] : ['--nonblock']),
        '--conflict-exit-code',
        String(BUSY_EXIT),
        path,
        'cat',
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      },
    );
    child.stdin.on('error', () => undefined); // EPIPE when flock exits at once (busy)
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      // cat echoes our probe line: it runs, so flock holds the lock.
      child.stdout.once('data', () => resolve());
      child.once('error', (error) =>
        reject(
          new BdvError(
            'UNSUPPORTED',
            `cannot lock ${h5Path}: flock(1) (util-linux) is needed (${error.message})`,
            'output',
          ),
        ),
      );
      child.once('exit', (code) => {
        if (writer && code === BUSY_EXIT) askFor(h5Path);
        reject(
          code === BUSY_EXIT
            ? new BdvError('FILE_LOCKED', `${h5Path} is being written by another process`, 'output')
            : new BdvError(
                'STATE',
                `cannot lock ${h5Path}: flock exited with ${code}: ${stderr.trim()}`,
                'output',
              ),
        );
      });
      child.stdin.write('x\n');
    });
    child.removeAllListeners('exit');
    child.unref();
    if (writer) answered(h5Path);
    return new WriterFence(path, child);
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
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.ref(); // held unref'd (a process that exits holding it just drops it); wait for the exit
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}

/** Records which dataset owns a file (inside its lock file), so nobody else ever appends to it. */
export function claimFile(h5Path: string, owner: string): void {
  writeFileSync(fenceFileOf(h5Path), `${owner}\n`);
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

/** A writer's ask for the fence (see wantFileOf); best effort: without it, readers just do not pause. */
function askFor(h5Path: string): void {
  try {
    writeFileSync(wantFileOf(h5Path), '');
  } catch {
    // a read-only or vanished folder: the write itself will say so
  }
}

/** The writer holds the fence now: its ask (or another writer's, who asks again) is withdrawn. */
function answered(h5Path: string): void {
  try {
    rmSync(wantFileOf(h5Path), { force: true });
  } catch {
    // left behind, it stops counting after WANT_FRESH_MS
  }
}
