/**
 * The previews' HDF5 reads: one at a time (HDF5 runs on the API's own thread), and at most `max`
 * waiting or running. A read of a large one-level view takes seconds of CPU, and each distinct
 * view, axis and size is a read of its own: without a bound, a client asking for many of them —
 * or a status page left open by many users — would queue hours of work that nothing cancels.
 * Beyond the bound, the caller answers 503 at once (ask again shortly).
 */
export class PreviewReadQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(readonly max = 8) {}

  /** Reads waiting or running. */
  get length(): number {
    return this.queued;
  }

  /** `read` after the reads already queued; undefined (and not queued) when `max` are queued. */
  add<T>(read: () => Promise<T>): Promise<T> | undefined {
    if (this.queued >= this.max) return undefined;
    this.queued++;
    const run = this.tail
      .catch(() => undefined)
      .then(read)
      .finally(() => this.queued--);
    this.tail = run;
    return run;
  }
}
