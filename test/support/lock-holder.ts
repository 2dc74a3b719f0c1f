import { spawn } from 'node:child_process';

/**
 * Another process holding `lockPath` (a file's write fence, `fenceFileOf`) with flock(1), as a
 * writer appending a view would: for `seconds`, or until released (killed).
 */
export async function holdLock(lockPath: string, seconds = 30) {
  const holder = spawn('flock', ['--no-fork', '--exclusive', lockPath, 'sleep', String(seconds)], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  await new Promise((r) => setTimeout(r, 300)); // flock holds it by then
  return { exited, release: () => holder.kill('SIGKILL') };
}
