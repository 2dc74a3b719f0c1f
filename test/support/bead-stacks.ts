import { npyHeader } from '@bdv-cluster/stacks';
import { decode } from 'fast-png';
import { writeFileSync } from 'node:fs';

/** A bright cube in a stack: its corner (z,y,x), edge and value. */
export interface Bead {
  z: number;
  y: number;
  x: number;
  size: number;
  value: number;
}

/**
 * A (z,y,x) uint16 stack with a dim, slightly noisy background and bright beads at known places,
 * so a preview can be checked for where its bright spots are.
 */
export function beadStack(shapeZyx: [number, number, number], beads: readonly Bead[], background = 100) {
  const [nz, ny, nx] = shapeZyx;
  const data = new Uint16Array(nz * ny * nx);
  for (let i = 0; i < data.length; i++) data[i] = background + ((i * 2654435761) >>> 28); // +0..15
  for (const b of beads)
    for (let z = b.z; z < Math.min(nz, b.z + b.size); z++)
      for (let y = b.y; y < Math.min(ny, b.y + b.size); y++)
        data.fill(b.value, (z * ny + y) * nx + b.x, (z * ny + y) * nx + Math.min(nx, b.x + b.size));
  return { shapeZyx, data };
}

/** A decoded 8-bit gray PNG (fails the test on anything else). */
export function grayPng(bytes: Uint8Array) {
  const png = decode(bytes);
  if (png.channels !== 1 || png.depth !== 8)
    throw new Error(`expected 8-bit gray, got ${png.channels} x ${png.depth}`);
  const at = (x: number, y: number) => png.data[y * png.width + x]!;
  /** Fraction of pixels at or above `level`. */
  const brightFraction = (level: number) => png.data.filter((v) => v >= level).length / png.data.length;
  return { width: png.width, height: png.height, text: png.text, at, brightFraction };
}

/** Writes a bead stack as a little-endian uint16 .npy file. */
export function writeBeadNpy(
  path: string,
  shapeZyx: [number, number, number],
  beads: readonly Bead[],
  background = 100,
): void {
  const { data } = beadStack(shapeZyx, beads, background);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(path, Buffer.concat([npyHeader(shapeZyx), bytes]));
}
