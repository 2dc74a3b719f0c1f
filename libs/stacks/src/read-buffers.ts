/**
 * Read buffers kept from one stack for the next in this thread (the copying readers: S3 objects,
 * uint8 and big-endian input). Fresh memory is expensive on first touch (page faults: ~4 ms of
 * CPU per MiB on the benchmark VM), and a writer converts view after view of the same shape, so
 * the buffers of the last stack are kept — at most one stack's two.
 */
const spare: ArrayBuffer[] = [];
const KEEP = 2;

/** `bytes` bytes, reused if a kept buffer is about that size (contents undefined). */
export function takeReadBuffer(bytes: number): Uint8Array {
  const i = spare.findIndex((b) => b.byteLength >= bytes && b.byteLength <= 2 * bytes + 4096);
  if (i < 0) return new Uint8Array(bytes);
  const [buffer] = spare.splice(i, 1);
  return new Uint8Array(buffer!, 0, bytes);
}

/** Keeps a buffer from takeReadBuffer for the next stack. */
export function keepReadBuffer(view: ArrayBufferView): void {
  if (view.byteLength === 0 || spare.includes(view.buffer as ArrayBuffer)) return;
  spare.push(view.buffer as ArrayBuffer);
  if (spare.length > KEEP) spare.shift();
}
