import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import type { Socket } from 'node:net';

const log = new Logger('http');

/** A reply whose client takes nothing for this long is given up (its memory is freed). */
export const STALLED_REPLY_MS = 60_000;

/**
 * Answers with a JSON array written batch by batch as the batches are read, so a reply of any
 * length holds one batch in memory (a million views answered at once would be ~2.4 GB of objects
 * and text). The body is the bytes `res.json()` sends for the whole array, but sent chunked:
 * no Content-Length and no ETag (a cut connection, not a short count, tells a partial list).
 *
 * The first batch is read before anything is sent: a failure there is still an ordinary error
 * reply. A failure later cuts the connection (the status line is gone) and is logged, so a client
 * never takes a partial array for a whole one. The walk stops when the connection goes — before
 * the first byte too, and for a pipelined request queued behind another — and when the client
 * takes nothing for `stalledMs`: a reader that stops reading cannot pin the walk's memory.
 */
export async function sendJsonArray<T>(
  res: Response,
  batches: AsyncIterable<T[]>,
  present: (item: T) => unknown,
  {
    stalledMs = STALLED_REPLY_MS,
    headers = {},
  }: { stalledMs?: number; headers?: Record<string, string> } = {},
): Promise<void> {
  // The connection, not the reply: a queued pipelined reply has no socket yet, and a request's own
  // 'close' comes once its (empty) body is read.
  const socket = res.req.socket;
  let gone = socket.destroyed;
  const onGone = () => (gone = true);
  socket.once('close', onGone);
  res.once('close', onGone);
  const iterator = batches[Symbol.asyncIterator]();
  let next: IteratorResult<T[]> | undefined;
  try {
    next = await iterator.next();
    if (gone) return;
    // Only on a reply that will carry the array: an error before the first byte sends none of them.
    res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write('[');
    let first = true;
    while (!next.done) {
      let text = '';
      for (const item of next.value) {
        text += (first ? '' : ',') + JSON.stringify(present(item));
        first = false;
      }
      if (!res.write(text) && !gone && !(await drained(res, socket, stalledMs))) {
        log.warn(
          `${res.req.method} ${res.req.originalUrl}: client took nothing for ${stalledMs} ms: reply cut`,
        );
        res.destroy();
        return;
      }
      if (gone) return;
      next = await iterator.next();
    }
    res.end(']');
  } catch (error) {
    // Before the first byte: the caller's error reply. After it: only a cut connection can say it.
    if (!res.headersSent) throw error;
    log.warn(`${res.req.method} ${res.req.originalUrl}: reply cut after its first byte: ${String(error)}`);
    res.destroy(error as Error);
  } finally {
    socket.off('close', onGone);
    res.off('close', onGone);
    if (next && !next.done) await iterator.return?.();
  }
}

/**
 * Resolves true when the reply can take more or its connection went (the loop then sees `gone`),
 * false when the client took nothing for `stalledMs`. No listener is left behind.
 */
function drained(res: Response, socket: Socket, stalledMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      for (const [emitter, event] of waits) emitter.off(event, onEvent);
      resolve(ok);
    };
    const onEvent = () => done(true);
    const waits = [
      [res, 'drain'],
      [res, 'close'],
      [socket, 'close'],
    ] as const;
    for (const [emitter, event] of waits) emitter.on(event, onEvent);
    const timer = setTimeout(() => done(false), stalledMs);
  });
}
