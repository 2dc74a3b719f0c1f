import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

/**
 * Another process holding `lockPath` (a file's write fence, `fenceFileOf`) with flock(1), as a
 * writer appending a view would: for `seconds`, or until released (killed).
 */
export async function holdLock(lockPath: string, seconds = 30) {
  const holder = spawn('flock', ['--no-fork', '--exclusive', lockPath, 'sleep', String(seconds)], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  await untilLockIs(lockPath, 'held');
  return { exited, release: () => holder.kill('SIGKILL') };
}

/**
 * Resolves once `lockPath` is held ('held') or has a taker blocked on it ('waited on'), as
 * /proc/locks shows it: no guessing how long a flock(1) child takes to start.
 */
export async function untilLockIs(lockPath: string, state: 'held' | 'waited on', timeoutMs = 10_000) {
  for (const started = Date.now(); Date.now() - started < timeoutMs;) {
    const inode = statSync(lockPath, { throwIfNoEntry: false })?.ino;
    const entry = new RegExp(
      `^\\d+:\\s+${state === 'waited on' ? '->' : '(?!->)'}\\s*FLOCK\\s+\\S+\\s+\\S+\\s+\\d+\\s+[0-9a-f]+:[0-9a-f]+:${inode}\\s`,
      'm',
    );
    if (inode !== undefined && entry.test(readFileSync('/proc/locks', 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${lockPath} not ${state} within ${timeoutMs} ms`);
}

/**
 * Runs `run` while another process holds `lockPath`, aborting its signal after `abortAfterMs`: what
 * it threw (undefined if it did not) and how long it took.
 */
export async function abortedWhileLocked(
  lockPath: string,
  abortAfterMs: number,
  run: (signal: AbortSignal) => Promise<unknown>,
) {
  const holder = await holdLock(lockPath);
  try {
    const control = new AbortController();
    const timer = setTimeout(() => control.abort(), abortAfterMs);
    const started = Date.now();
    const error = await run(control.signal).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    clearTimeout(timer);
    return { error, ms: Date.now() - started };
  } finally {
    holder.release();
  }
}
