import type { Response } from 'express';

/**
 * Answers with a JSON array written batch by batch as the batches are read, so a reply of any
 * length holds one batch in memory (a million views answered at once would be ~1 GB of objects
 * and text). The bytes are those `res.json()` sends for the whole array. The first batch is read
 * before anything is sent: a failure there is still an ordinary error reply. A failure later
 * cuts the connection (the status line is gone), so a client never takes a partial array for a
 * whole one; a client that goes away stops the reading.
 */
export async function sendJsonArray<T>(
  res: Response,
  batches: AsyncIterable<T[]>,
  present: (item: T) => unknown,
): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  let next = await iterator.next();
  res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
  let first = true;
  let gone = false;
  res.once('close', () => (gone = true));
  try {
    res.write('[');
    while (!next.done) {
      let text = '';
      for (const item of next.value) {
        text += (first ? '' : ',') + JSON.stringify(present(item));
        first = false;
      }
      if (!res.write(text) && !gone) await drainedOrGone(res);
      if (gone) return;
      next = await iterator.next();
    }
    res.end(']');
  } catch (error) {
    res.destroy(error as Error);
  } finally {
    if (!next.done) await iterator.return?.();
  }
}

/** Resolves when the reply can take more, or its connection is gone (no listener left behind). */
function drainedOrGone(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
