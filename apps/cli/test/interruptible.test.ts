import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../src/convert/interruption.js';
import { interruptible } from '../src/convert/view-writing.js';

async function* oneSlab(): AsyncIterable<Uint16Array> {
  yield new Uint16Array(8);
}

describe('a stack read under Ctrl-C', () => {
  it('fails its view when the stop comes while its last (here only) slab is written', async () => {
    const controller = new AbortController();
    const stack = interruptible({ shapeZyx: [1, 2, 4], slabs: oneSlab() }, controller.signal);
    const slabs = stack.slabs[Symbol.asyncIterator]();
    expect((await slabs.next()).done).toBe(false);
    // The writer is busy with that slab when the signal arrives.
    controller.abort(new InterruptedError('SIGINT'));
    await expect(slabs.next()).rejects.toBeInstanceOf(InterruptedError);
  });

  it('lets a view end when nothing was asked', async () => {
    const stack = interruptible({ shapeZyx: [1, 2, 4], slabs: oneSlab() }, new AbortController().signal);
    let slabs = 0;
    for await (const slab of stack.slabs) slabs += slab.length > 0 ? 1 : 0;
    expect(slabs).toBe(1);
  });

  it('says what the output keeps', () => {
    const stop = new InterruptedError('SIGTERM');
    expect(stop.keeping(3, '/d/out.h5').message).toBe(
      'interrupted: /d/out.h5 keeps the 3 view(s) finished before it; run the same command with --resume to continue',
    );
    expect(stop.keeping(0, '/d/out.h5').message).toBe(
      'interrupted: no view was finished; run the same command with --resume to continue',
    );
    expect(stop.keeping(3, '/d/out.h5').exitCode).toBe(143);
  });
});
