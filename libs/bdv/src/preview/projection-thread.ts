import { Worker } from 'node:worker_threads';
import { BdvError, type BdvErrorCode } from '../errors.js';
import type { PreviewSource, ProjectOptions, ViewProjection } from './view-projection.js';

/**
 * The compiled thread entry. Under the test runner this module runs from its TypeScript source,
 * where no .js sits beside it: the thread is started from the build then (npm test builds first).
 */
const THREAD_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('../../dist/preview/projection-thread-entry.js', import.meta.url)
  : new URL('./projection-thread-entry.js', import.meta.url);

/** An idle thread is stopped after this long, and its wasm heap (~100 MiB after large reads) with it. */
const IDLE_MS = 60_000;

export interface ProjectionRequest {
  id: number;
  sources: readonly PreviewSource[];
  options: ProjectOptions;
}

export type ProjectionReply =
  | { id: number; projections: ViewProjection[] }
  | { id: number; error: { name: string; message: string; code?: string; field?: string } };

/** The thread stopped (it crashed, or a caller's abort took it down) before it answered. */
export class ProjectionThreadStopped extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionThreadStopped';
  }
}

interface Pending {
  resolve: (projections: ViewProjection[]) => void;
  reject: (error: unknown) => void;
  /** Stops listening to the caller's signal. */
  done: () => void;
}

/**
 * projectViewsOfFile on a thread of its own, for a server: a preview costs seconds of CPU in
 * synchronous HDF5 calls of up to hundreds of ms each, which on the server's own thread hold every
 * other request back (BENCHMARKS.md, "Preview run"). One thread, started on first use and stopped
 * after a minute idle. A read whose caller aborts takes the thread down with it — a read that
 * never ends (a lock call hung on a network volume) must not hold the reads after it — and the
 * next read starts a fresh thread.
 */
export class ProjectionThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs = IDLE_MS) {}

  /** The projections of `sources` (views of one file), read on the thread. */
  project(
    sources: readonly PreviewSource[],
    options: ProjectOptions = {},
    signal?: AbortSignal,
  ): Promise<ViewProjection[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const worker = this.thread();
    clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise<ViewProjection[]>((resolve, reject) => {
      const onAbort = () => this.abandon(worker, signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve, reject, done });
      const request: ProjectionRequest = { id, sources, options };
      worker.postMessage(request);
    });
  }

  /** Whether a thread is running now (idle or reading). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Stops the thread; reads still running are rejected. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.abandon(worker, new ProjectionThreadStopped('the preview thread was closed'));
    await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    // workerData must be an object: a dependency destructures it when loaded inside a thread.
    const worker = new Worker(THREAD_ENTRY, { workerData: {} });
    worker.unref(); // an idle preview thread never keeps its process alive
    worker.on('message', (reply: ProjectionReply) => {
      const entry = this.take(reply.id);
      if (!entry) return;
      if ('projections' in reply) entry.resolve(reply.projections);
      else entry.reject(errorOf(reply.error));
      this.idleSoon(worker);
    });
    worker.on('error', (error) =>
      this.abandon(worker, new ProjectionThreadStopped(`the preview thread failed: ${error.message}`)),
    );
    worker.on('exit', (code) =>
      this.abandon(worker, new ProjectionThreadStopped(`the preview thread exited with code ${code}`)),
    );
    this.worker = worker;
    return worker;
  }

  private take(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    entry?.done();
    return entry;
  }

  /** With nothing left to read, the thread stops after `idleMs` unless a read comes first. */
  private idleSoon(worker: Worker): void {
    if (this.pending.size > 0 || this.worker !== worker) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () => this.abandon(worker, new ProjectionThreadStopped('the preview thread was idle')),
      this.idleMs,
    );
    this.idleTimer.unref();
  }

  /** Drops `worker`: its reads are rejected with `reason`; the next read starts a fresh thread. */
  private abandon(worker: Worker, reason: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    clearTimeout(this.idleTimer);
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(reason);
    void worker.terminate();
  }
}

/** The thread's error as the caller would have seen it thrown here (a BdvError keeps its code). */
function errorOf(e: { name: string; message: string; code?: string; field?: string }): Error {
  if (e.name === 'BdvError' && e.code) return new BdvError(e.code as BdvErrorCode, e.message, e.field);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
