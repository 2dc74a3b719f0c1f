import { Worker } from 'node:worker_threads';

/**
 * Starts one of a writing thread's helpers (flush, checksum): a worker that never
 * keeps the process alive (it only has work while a writer waits for it or a file is open) and
 * whose loss — it could not start, threw, or exited — is reported once to `lost`, after which
 * the caller does the work itself or goes without.
 */
export function startHelperThread(
  entry: URL,
  workerData: unknown,
  lost: (why: unknown) => void,
): Worker | undefined {
  let worker: Worker;
  try {
    worker = new Worker(entry, { workerData });
  } catch (error) {
    // No thread (out of descriptors, a broken install).
    lost(error);
    return undefined;
  }
  worker.unref();
  let reported = false;
  const report = (why: unknown) => {
    if (reported) return;
    reported = true;
    lost(why);
  };
  worker.on('error', report);
  worker.on('exit', (code) => report(new Error(`it exited (${code})`)));
  return worker;
}
