import { writerSlabBuffers, type SlabStack, type Zyx } from '../src/index.js';

/** A stack delivered in slabs read "in place" into the writer's heap, the way asSlabStack's readers do. */
export function heapSlabs(stack: Uint16Array, shape: Zyx, depth: number): SlabStack {
  const plane = shape[1] * shape[2];
  async function* slabs(): AsyncIterable<Uint16Array> {
    const buffer = await writerSlabBuffers(depth * plane * 2);
    try {
      for (let z = 0; z < shape[0]; z += depth) {
        const part = stack.subarray(z * plane, Math.min(shape[0], z + depth) * plane);
        const view = new Uint16Array(buffer.view().buffer, buffer.view().byteOffset, part.length);
        view.set(part);
        yield view;
      }
    } finally {
      buffer.release();
    }
  }
  return { shapeZyx: shape, slabs: slabs() };
}

/** Resolves once `done()` holds, polling every 5 ms; rejects after `ms`. */
export async function until(done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
