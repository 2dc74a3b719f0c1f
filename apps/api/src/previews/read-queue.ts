/** How much preview reading may be asked for at once, and for how long. */
export interface ReadQueueLimits {
  /** Views waiting or being read, all reads together (a sheet's read counts its views). */
  maxViews: number;
  /** A read not started this long after it was asked for is dropped (its caller told to retry). */
  waitMs: number;
  /**
   * A read running longer no longer holds the queue: the next starts, its caller gets ReadOverrun,
   * and the read's signal is aborted (the previews stop its thread).
   */
  runMs: number;
}

/**
 * 32 views: two full sheets (16 new views each), or a sheet and 16 single previews (the API takes
 * PREVIEW_QUEUE_VIEWS and PREVIEW_QUEUE_WAIT_SECONDS from its environment).
 */
export const PREVIEW_READ_LIMITS: ReadQueueLimits = { maxViews: 32, waitMs: 30_000, runMs: 300_000 };

/** A read dropped because it could not start within `waitMs`. */
export class ReadWaitExpired extends Error {}

/** A read still running after `runMs`: its caller is answered now, its result is dropped. */
export class ReadOverrun extends Error {}

/** A read dropped before its turn because everyone who asked for it went away (`cancel`). */
export class ReadCancelled extends Error {
  constructor() {
    super('asked for by nobody any more');
  }
}

/**
 * The previews' HDF5 reads: one at a time (on the previews' one thread), bounded in the
 * views queued and in the time a read may wait. A read of a large one-level view takes seconds of
 * CPU, and each distinct view and scale is a read of its own: without bounds, a client asking for
 * many of them — or a status page left open by many users — would queue hours of work that
 * nothing cancels. Beyond `maxViews` the caller answers 503 at once; a read still waiting after
 * `waitMs` is dropped with ReadWaitExpired (its client has likely given up by then); a read that
 * never ends (a lock call hung on a network volume) releases the queue after `runMs`: its
 * caller gets ReadOverrun then (nothing waits on it forever, e.g. the previews' in-flight map) and
 * its signal is aborted, so that the read itself can be stopped. A read whose `cancel` signal is
 * aborted before its turn (its client closed the connection) leaves the queue at once: a status
 * page closed, or a client that gave up, frees its place for those still waiting.
 */
export class PreviewReadQueue {
  /**
   * Turns not started yet, in order. A list rather than a chain of promises: a dropped read leaves
   * it at once, so clients that ask and leave in a loop while one read runs hold nothing.
   */
  private readonly waiting: (() => Promise<void>)[] = [];
  private busy = false;
  private views = 0;

  constructor(readonly limits: ReadQueueLimits = PREVIEW_READ_LIMITS) {}

  /** Views waiting or being read. */
  get length(): number {
    return this.views;
  }

  /**
   * `read` (of `views` views) after the reads already queued; undefined, and nothing queued, when
   * it would take the queue past `maxViews`. Aborting `cancel` before the read's turn drops it
   * (ReadCancelled); once it runs, `cancel` changes nothing (its result is still worth caching).
   */
  add<T>(
    views: number,
    read: (signal: AbortSignal) => Promise<T>,
    cancel?: AbortSignal,
  ): Promise<T> | undefined {
    if (cancel?.aborted) return Promise.reject(new ReadCancelled());
    if (this.views + views > this.limits.maxViews) return undefined;
    this.views += views;
    let held = true;
    const release = () => {
      if (held) this.views -= views;
      held = false;
    };
    let answer!: { resolve: (value: T) => void; reject: (error: unknown) => void };
    const result = new Promise<T>((resolve, reject) => (answer = { resolve, reject }));
    const drop = (reason: Error) => {
      const at = this.waiting.indexOf(turn);
      if (at >= 0) this.waiting.splice(at, 1);
      clearTimeout(expiry);
      cancel?.removeEventListener('abort', cancelled);
      release();
      answer.reject(reason);
    };
    const cancelled = () => drop(new ReadCancelled());
    const expiry = setTimeout(
      () => drop(new ReadWaitExpired(`no turn within ${this.limits.waitMs / 1000} s`)),
      this.limits.waitMs,
    );
    expiry.unref();
    cancel?.addEventListener('abort', cancelled, { once: true });
    // This read's turn; the next one starts when it ends or has run `runMs` (never rejects).
    const turn = async () => {
      clearTimeout(expiry);
      cancel?.removeEventListener('abort', cancelled);
      const control = new AbortController();
      // Views released before the answer: a caller that goes on at once sees the queue it left.
      const running = Promise.resolve()
        .then(() => read(control.signal))
        .then(
          (value) => (release(), answer.resolve(value)),
          (error: unknown) => (release(), answer.reject(error)),
        );
      let overrun: NodeJS.Timeout | undefined;
      await Promise.race([
        running,
        new Promise<void>((resolve) => {
          overrun = setTimeout(() => {
            release();
            const late = new ReadOverrun(`still running after ${this.limits.runMs / 1000} s`);
            answer.reject(late);
            control.abort(late);
            resolve();
          }, this.limits.runMs);
          overrun.unref();
        }),
      ]);
      clearTimeout(overrun);
    };
    this.waiting.push(turn);
    this.next();
    return result;
  }

  /** Starts the first waiting read, unless one is running. */
  private next(): void {
    if (this.busy) return;
    const turn = this.waiting.shift();
    if (!turn) return;
    this.busy = true;
    void turn().finally(() => {
      this.busy = false;
      this.next();
    });
  }
}
