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

/**
 * Write threads, one per concurrent job, kept between jobs. A thread that dies (or errs outside a
 * task) is dropped and a fresh one is started for the next job.
 */
export class WriteThreadPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();

  run(input: WriteViewTaskInput, onProgress: (p: TaskProgress) => void): Promise<ViewResult> {
    const worker = this.idle.pop() ?? this.spawn();
    return new Promise<ViewResult>((resolve, reject) => {
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (m: ThreadMessage) => {
        if (m.type === 'progress') return onProgress(m.progress);
        cleanup();
        this.idle.push(worker);
        if (m.type === 'done') resolve(m.result);
        else reject(new WriteTaskError(m.error.message, m.error.permanent));
      };
      const onError = (error: Error) => {
        cleanup();
        this.drop(worker);
        reject(new WriteTaskError(`write thread crashed: ${error.message}`, false));
      };
      const onExit = (code: number) => {
        cleanup();
        this.drop(worker);
        reject(new WriteTaskError(`write thread exited with code ${code}`, false));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(input);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((w) => w.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  private spawn(): Worker {
    // workerData must be an object: a dependency destructures it when loaded inside a thread.
    const worker = new Worker(new URL('./write-view-thread.js', import.meta.url), { workerData: {} });
    this.all.add(worker);
    return worker;
  }

  private drop(worker: Worker): void {
    this.all.delete(worker);
    const i = this.idle.indexOf(worker);
    if (i >= 0) this.idle.splice(i, 1);
    void worker.terminate();
  }
}
