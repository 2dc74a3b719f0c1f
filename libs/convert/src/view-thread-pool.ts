import { threadEntryUrl, type FileCheck, type ViewVerdict } from '@bdv-cluster/bdv';
import { Worker } from 'node:worker_threads';
import { cancelledError, sharedCancelFlag } from './cancellation.js';
import { sizeThreadHeaps } from './thread-heap.js';
import { ViewTaskError } from './task-errors.js';
import type { ThreadReply, ThreadRequest } from './thread-messages.js';
import type { TaskProgress, ViewTask, ViewTaskResult } from './view-task.js';

/** The CLI's bundle (scripts/bundle-cli.mjs) emits `view-thread.js` in the folder of every chunk. */
const THREAD_ENTRY = threadEntryUrl(import.meta.url, 'view-thread.js');

/**
 * Worker threads that run view tasks (and file checks), kept between tasks. A thread that dies (or
 * errs outside a task) is dropped and a fresh one serves the next task. Callers bound the
 * concurrency (the CLI's --jobs, the writer's WRITER_CONCURRENCY, the finalizer's
 * FINALIZER_VERIFY_THREADS): every call runs at once on its own thread.
 */
export class ViewThreadPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();

  /**
   * Runs one task on a thread. `signal` stops it at a safe point: the thread checks a shared flag
   * before each slab, undoes the view (journal rollback, or the staged partition deleted) and the
   * promise rejects with a `cancelled` ViewTaskError.
   */
  run(task: ViewTask, onProgress?: (p: TaskProgress) => void, signal?: AbortSignal): Promise<ViewTaskResult> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    const flag = signal ? sharedCancelFlag() : undefined;
    const onAbort = () => flag?.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    const request: ThreadRequest = { task, ...(flag ? { cancel: flag.buffer } : {}) };
    return this.dispatch<ViewTaskResult>(request, onProgress).finally(() =>
      signal?.removeEventListener('abort', onAbort),
    );
  }

  /** Reads one written file back on a thread and checks it against its checksums (`checkFile`). */
  check(check: FileCheck): Promise<ViewVerdict[]> {
    return this.dispatch<ViewVerdict[]>({ check });
  }

  private dispatch<R>(request: ThreadRequest, onProgress?: (p: TaskProgress) => void): Promise<R> {
    const worker = this.idle.pop() ?? this.spawn();
    return new Promise<R>((resolve, reject) => {
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (m: ThreadReply) => {
        if (m.type === 'progress') return onProgress?.(m.progress);
        cleanup();
        if (m.type === 'done') {
          this.idle.push(worker);
          resolve(m.result as R);
        } else {
          // h5wasm's error handler leaks a file handle per HDF5 error; a thread that saw one
          // is retired rather than reused, so errors never pile up in a long-lived writer.
          this.drop(worker);
          reject(new ViewTaskError(m.message, m.kind));
        }
      };
      const onError = (error: Error) => {
        cleanup();
        this.drop(worker);
        reject(new ViewTaskError(`view thread crashed: ${error.message}`, 'transient'));
      };
      const onExit = (code: number) => {
        cleanup();
        this.drop(worker);
        reject(new ViewTaskError(`view thread exited with code ${code}`, 'transient'));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });
  }

  /**
   * Starts threads now, up to `count` in all, so that they load HDF5 (~0.1–0.3 s each, on their own
   * cores) while the caller still reads headers and plans; their first tasks then start at once.
   */
  warm(count: number): void {
    for (let i = this.all.size; i < count; i++) this.idle.push(this.spawn());
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((w) => w.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  private spawn(): Worker {
    // Before the first thread is made (a no-op after): a thread streaming from S3 needs the
    // room (thread-heap.ts).
    sizeThreadHeaps();
    // workerData must be an object: a dependency destructures it when loaded inside a thread.
    const worker = new Worker(THREAD_ENTRY, { workerData: {} });
    this.all.add(worker);
    // An idle thread (warmed, or between tasks) that fails is dropped, not left as an unhandled
    // 'error' that would end the process; a task in hand also hears of it (dispatch).
    worker.on('error', () => this.drop(worker));
    return worker;
  }

  private drop(worker: Worker): void {
    this.all.delete(worker);
    const i = this.idle.indexOf(worker);
    if (i >= 0) this.idle.splice(i, 1);
    void worker.terminate();
  }
}
