import type { ViewResult } from '@bdv-cluster/pipeline';
import { Worker } from 'node:worker_threads';
import type { TaskProgress, WriteViewTaskInput } from './write-view-task.js';

export class WriteTaskError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'WriteTaskError';
  }
}

type ThreadMessage =
  | { type: 'progress'; progress: TaskProgress }
  | { type: 'done'; result: ViewResult }
  | { type: 'error'; error: { name: string; message: string; permanent: boolean } };

/** Runs one view write in a fresh worker thread (its own wasm heap, freed when it exits). */
export function runWriteThread(
  input: WriteViewTaskInput,
  onProgress: (p: TaskProgress) => void,
): Promise<ViewResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./write-view-thread.js', import.meta.url), { workerData: input });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'progress') onProgress(m.progress);
      else if (m.type === 'done') settle(() => resolve(m.result));
      else settle(() => reject(new WriteTaskError(m.error.message, m.error.permanent)));
    });
    worker.on('error', (error) => settle(() => reject(new WriteTaskError(error.message, false))));
    worker.on('exit', (code) =>
      settle(() => reject(new WriteTaskError(`write thread exited with code ${code}`, false))),
    );
  });
}
