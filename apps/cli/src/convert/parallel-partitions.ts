import { Worker } from 'node:worker_threads';
import { CliError } from '../cli-error.js';
import type { PartitionTask } from './partition-thread.js';

type ThreadMessage =
  | { type: 'progress'; bytesDone: number; bytesTotal: number }
  | { type: 'done' }
  | { type: 'error'; message: string };

export interface PartitionCallbacks {
  started(index: number): void;
  progress(index: number, fraction: number): void;
  done(index: number): void;
}

/**
 * Writes partition files on `jobs` worker threads at once (gzip runs on one core per file, so this
 * is how a local conversion uses several cores). Stops handing out work at the first failure.
 */
export async function writePartitionsInThreads(
  tasks: PartitionTask[],
  jobs: number,
  on: PartitionCallbacks,
): Promise<void> {
  let next = 0;
  let failure: Error | undefined;
  const runThread = async () => {
    const worker = new Worker(new URL('./partition-thread.js', import.meta.url), { workerData: {} });
    try {
      while (next < tasks.length && !failure) {
        const index = next++;
        on.started(index);
        await new Promise<void>((resolve, reject) => {
          const onMessage = (m: ThreadMessage) => {
            if (m.type === 'progress') return on.progress(index, m.bytesDone / m.bytesTotal);
            worker.off('message', onMessage);
            worker.off('error', reject);
            if (m.type === 'done') resolve();
            else reject(new CliError(m.message));
          };
          worker.on('message', onMessage);
          worker.once('error', reject);
          worker.postMessage(tasks[index]);
        });
        on.done(index);
      }
    } catch (error) {
      failure ??= error as Error;
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, runThread));
  if (failure) throw failure;
}
