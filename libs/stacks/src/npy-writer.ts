import { open } from 'node:fs/promises';
import type { Zyx } from '@bdv-cluster/bdv';

/** The .npy v1 header for a C-ordered little-endian uint16 stack, padded to 64 bytes as numpy does. */
export function npyHeader(shapeZyx: Zyx): Uint8Array {
  const dict = `{'descr': '<u2', 'fortran_order': False, 'shape': (${shapeZyx.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  const padded = Math.ceil(unpadded / 64) * 64;
  const text = dict + ' '.repeat(padded - unpadded) + '\n';
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

/** Streams z-slabs into a .npy file (for sample data and benchmarks; never holds the stack). */
export async function writeNpy(
  path: string,
  shapeZyx: Zyx,
  slabs: AsyncIterable<Uint16Array> | Iterable<Uint16Array>,
): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await file.write(npyHeader(shapeZyx));
    for await (const slab of slabs)
      await file.write(new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength));
  } finally {
    await file.close();
  }
}
