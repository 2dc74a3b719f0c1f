import {
  BdvWriter,
  writerSlabBuffers,
  type BdvWriterOptions,
  type SlabStack,
  type Zyx,
} from '../src/index.js';

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

/**
 * Writes `stack` into a new `h5` as one view of two levels (1,1,1 and 2,2,2, blocks 4,256,256 and
 * 4,128,128) from heap slabs 8 planes deep, with its XML; returns the XML's path.
 */
export async function writeTwoLevelView(
  h5: string,
  stack: Uint16Array,
  shape: Zyx,
  compression?: BdvWriterOptions['compression'],
): Promise<string> {
  const writer = await BdvWriter.create(h5, {
    compression,
    subsamplingZyx: [
      [1, 1, 1],
      [2, 2, 2],
    ],
    blockSizeZyx: [
      [4, 256, 256],
      [4, 128, 128],
    ],
  });
  await writer.appendView(heapSlabs(stack, shape, 8));
  await writer.writeXml();
  await writer.close();
  return writer.xmlPath;
}
