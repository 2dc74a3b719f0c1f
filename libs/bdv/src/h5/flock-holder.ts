import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { BdvError } from '../errors.js';

/** flock(1)'s exit code when the lock is taken (chosen: its default 1 is also a failing command's). */
const BUSY_EXIT = 75;

/** flock(1)'s exits when it cannot open (EX_NOINPUT) or create (EX_CANTCREAT) the lock file. */
const NO_LOCK_FILE = 66;
const CANNOT_CREATE = 73;

/** How often a wait looks at its `cancel` flag. */
const CANCEL_POLL_MS = 200;

/** A child process holding an flock(1) lock for as long as its stdin stays open. */
export type LockHolder = ReturnType<typeof spawn>;

/**
 * Locks `lockPath` by running `flock <lockPath> cat` with a pipe as its stdin: resolves once `cat`
 * runs (so flock holds the lock), after waiting up to `seconds` (0: fails at once if taken).
 * Rejects FILE_LOCKED when the wait ends or `cancel` is aborted, STATE when flock cannot run;
 * either way nothing is left holding the lock. `waitedSeconds` is what the message says was waited.
 */
export async function lockFile(
  h5Path: string,
  lockPath: string,
  seconds: number,
  waitedSeconds: number,
  cancel?: { readonly aborted: boolean },
): Promise<LockHolder> {
  // Its own process group, so a terminal's ^C / ^Z to the writer does not reach the lock holder.
  const child = spawn(
    'flock',
    [
      '--exclusive',
      ...(seconds > 0 ? ['--timeout', seconds.toFixed(3)] : ['--nonblock']),
      '--conflict-exit-code',
      String(BUSY_EXIT),
      lockPath,
      'cat',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], detached: true },
  );
  let stderr = '';
  let watch: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new BdvError(
                'UNSUPPORTED',
                `cannot lock ${h5Path}: flock(1) (util-linux) is needed (${error.message})`,
                'output',
              )
            : new BdvError('STATE', `cannot lock ${h5Path}: ${error.message}`, 'output'),
        ),
      );
      child.once('exit', (code) =>
        reject(
          code === BUSY_EXIT
            ? new BdvError(
                'FILE_LOCKED',
                `${h5Path} is being written by another process${waitedSeconds > 0 ? ` (waited ${waitedSeconds} s)` : ''}`,
                'output',
              )
            : new BdvError(
                'STATE',
                code === NO_LOCK_FILE || code === CANNOT_CREATE
                  ? `cannot lock ${h5Path}: its lock file ${lockPath} cannot be opened (${stderr.replace(/^flock: cannot open lock file .*?: /, '').trim()})`
                  : `cannot lock ${h5Path}: flock exited with ${code}: ${stderr.trim()}`,
                'output',
              ),
        ),
      );
      // No pipes when the spawn itself failed (e.g. out of descriptors): its 'error' follows.
      if (!child.stdin || !child.stdout || !child.stderr) return;
      child.stdin.on('error', () => undefined); // EPIPE when flock exits at once (busy)
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // cat echoes our probe line: it runs, so flock holds the lock.
      child.stdout.once('data', () => resolve());
      if (cancel && seconds > 0)
        watch = setInterval(() => {
          if (!cancel.aborted) return;
          reject(new BdvError('FILE_LOCKED', `stopped waiting for ${h5Path}: cancelled`, 'output'));
        }, CANCEL_POLL_MS);
      child.stdin.write('x\n');
    });
  } catch (error) {
    // Not holding it, whatever happened: flock ends, and cat (had flock just forked it) with
    // its input.
    child.stdin?.end();
    child.kill();
    throw error;
  } finally {
    clearInterval(watch);
  }
  child.removeAllListeners('exit');
  child.unref(); // a process that exits holding it just drops it
  return child;
}

/**
 * Whether the file `holder` locked is still the one at `lockPath`: 'yes'; 'replaced' by another
 * file; 'removed'. flock(1) keeps the file it locked open, so /proc shows it (same device and inode,
 * which cannot go to another file while it is open). Without a readable /proc, 'yes' (cannot tell).
 */
export function lockedFileIsAt(holder: LockHolder, lockPath: string): 'yes' | 'replaced' | 'removed' {
  const atPath = statSync(lockPath, { throwIfNoEntry: false });
  if (!atPath) return 'removed';
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${holder.pid}/fd`);
  } catch {
    return 'yes';
  }
  const open = fds.some((fd) => {
    const file = statSync(`/proc/${holder.pid}/fd/${fd}`, { throwIfNoEntry: false });
    return file?.isFile() && file.dev === atPath.dev && file.ino === atPath.ino;
  });
  return open ? 'yes' : 'replaced';
}

/** Lets go of the lock: closes `cat`'s input and waits until flock has exited. */
export async function endHolder(holder: LockHolder): Promise<void> {
  if (holder.exitCode !== null || holder.signalCode !== null) return;
  holder.ref(); // wait for the exit
  await new Promise<void>((resolve) => {
    holder.once('exit', () => resolve());
    holder.stdin!.end();
  });
}
