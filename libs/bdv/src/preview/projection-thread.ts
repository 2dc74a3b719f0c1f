import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BdvError, type BdvErrorCode } from '../errors.js';
import { threadEntryUrl } from '../thread-entry.js';
import type { PreviewSource, ProjectOptions, ViewProjection } from './view-projection.js';

const THREAD_ENTRY = threadEntryUrl(import.meta.url, 'projection-thread-entry.js');

/** An idle thread is stopped after this long, and its wasm heap (~100 MiB after large reads) with it. */
const IDLE_MS = 60_000;
/**
 * A stopped thread that has not ended after this long is stuck in the kernel (a read of a hung
 * network volume: terminate cannot interrupt a system call). No new thread is started meanwhile:
 * each would get stuck the same way and keep its heap.
 */
const STUCK_AFTER_MS = 10_000;
/** How long close() waits for the thread to end (a stuck one never does). */
const CLOSE_WAIT_MS = 2_000;

export interface ProjectionRequest {
  id: number;
  sources: readonly PreviewSource[];
  options: ProjectOptions;
}

export type ProjectionReply =
  | { id: number; projections: ViewProjection[] }
  | { id: number; error: { name: string; message: string; stack?: string; code?: string; field?: string } };

/** The thread stopped (it crashed, or a caller's abort took it down) before it answered. */
export class ProjectionThreadStopped extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionThreadStopped';
  }
}

/** A stopped thread has not ended: reads are refused until it does (see STUCK_AFTER_MS). */
export class ProjectionThreadStuck extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionThreadStuck';
  }
}

export interface ProjectionThreadOptions {
  idleMs?: number;
  stuckAfterMs?: number;
  /** Told when the thread failed or ended on its own (a crash, not an abort or an idle stop). */
  onFailure?: (error: Error) => void;
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
 * never ends must not hold the reads after it — and the next read starts a fresh thread, unless
 * the stopped one is stuck in the kernel (ProjectionThreadStuck until it ends).
 */
export class ProjectionThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Stopped threads that have not ended yet, with when they were stopped. */
  private readonly stopping = new Map<Worker, number>();
  private readonly idleMs: number;
  private readonly stuckAfterMs: number;

  constructor(private readonly options: ProjectionThreadOptions = {}) {
    this.idleMs = options.idleMs ?? IDLE_MS;
    this.stuckAfterMs = options.stuckAfterMs ?? STUCK_AFTER_MS;
  }

  /** Throws if the build lacks the thread's entry (checked at a server's start, not at its first preview). */
  static assertInstalled(): void {
    const entry = fileURLToPath(THREAD_ENTRY);
    if (!existsSync(entry))
      throw new Error(`the preview thread's entry ${entry} is missing: rebuild (npm run build)`);
  }

  /** The projections of `sources` (views of one file), read on the thread. */
  project(
    sources: readonly PreviewSource[],
    options: ProjectOptions = {},
    signal?: AbortSignal,
  ): Promise<ViewProjection[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const stuckFor = this.stuckForMs();
    if (stuckFor >= this.stuckAfterMs)
      return Promise.reject(
        new ProjectionThreadStuck(
          `a stopped preview read has not returned from the file system for ${Math.round(stuckFor / 1000)} s`,
        ),
      );
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

  /** Stopped threads that have not ended yet (stuck ones among them). */
  get stoppingThreads(): number {
    return this.stopping.size;
  }

  /** Stops the thread (reads still running are rejected); waits at most CLOSE_WAIT_MS for it to end. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker) this.abandon(worker, new ProjectionThreadStopped('the preview thread was closed'));
    const ended = Promise.all([...this.stopping.keys()].map((w) => new Promise((r) => w.once('exit', r))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private stuckForMs(): number {
    const oldest = Math.min(...this.stopping.values());
    return Number.isFinite(oldest) ? Date.now() - oldest : 0;
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
    worker.on('error', (error) => this.failed(worker, error));
    worker.on('exit', (code) => {
      this.stopping.delete(worker);
      this.failed(worker, new Error(`the preview thread exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  /** The current thread failed on its own: its reads are rejected, and whoever watches is told. */
  private failed(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.options.onFailure?.(error);
    this.abandon(worker, new ProjectionThreadStopped(`the preview thread failed: ${error.message}`));
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
    if (worker.threadId >= 0) this.stopping.set(worker, Date.now()); // until its 'exit'
    void worker.terminate();
  }
}

/** The thread's error as the caller would have seen it thrown here (a BdvError keeps its code). */
function errorOf(e: { name: string; message: string; stack?: string; code?: string; field?: string }): Error {
  const error =
    e.name === 'BdvError' && e.code
      ? new BdvError(e.code as BdvErrorCode, e.message, e.field)
      : new Error(e.message);
  error.name = e.name;
  if (e.stack) error.stack = e.stack; // where it was thrown, on the thread
  return error;
}
