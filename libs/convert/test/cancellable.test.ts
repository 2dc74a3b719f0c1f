import { describe, expect, it } from 'vitest';
import { cancellable, type CancelCheck } from '../src/cancellation.js';
import { ViewTaskError } from '../src/task-errors.js';

async function* oneSlab(): AsyncIterable<Uint16Array> {
  yield new Uint16Array(8);
}

describe('a view cancelled while it is written', () => {
  it('fails at the end of its last (here only) slab, to be undone, not kept', async () => {
    const check: CancelCheck & { aborted: boolean } = { aborted: false };
    const slabs = cancellable({ shapeZyx: [1, 2, 4], slabs: oneSlab() }, check).slabs[Symbol.asyncIterator]();
    expect((await slabs.next()).done).toBe(false);
    check.aborted = true; // the cancel arrives while the writer works on that slab
    const error = await slabs.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ViewTaskError);
    expect((error as Error).message).toMatch(/^cancelled/);
  });

  it('ends as its source does when nobody cancels', async () => {
    const stack = cancellable({ shapeZyx: [1, 2, 4], slabs: oneSlab() }, { aborted: false });
    const seen: number[] = [];
    for await (const slab of stack.slabs) seen.push(slab.length);
    expect(seen).toEqual([8]);
  });
});
