import type { Zyx } from '../model/pyramid-spec.js';
import { projectedSize, type ProjectionAxis } from './level-choice.js';

/** A 16-bit image, row-major (what a maximum projection gives before contrast is applied). */
export interface GrayImage16 {
  width: number;
  height: number;
  pixels: Uint16Array;
}

/**
 * An image to fold slabs of a (z,y,x) stack into, keeping each pixel's maximum; `shrink` k > 1
 * makes each image pixel the maximum of k x k projected pixels (so memory stays at the preview's
 * size even when the level read is larger).
 */
export function emptyProjection(shapeZyx: Zyx, axis: ProjectionAxis, shrink = 1): GrayImage16 {
  const [h, w] = projectedSize(shapeZyx, axis);
  const height = Math.ceil(h / shrink);
  const width = Math.ceil(w / shrink);
  return { width, height, pixels: new Uint16Array(width * height) };
}

/**
 * Folds planes z0.. of a stack (`slab`: whole y,x planes, C order, uint16 bits) into the maximum
 * projection along `axis` (image made by emptyProjection with the same `shrink`). Along z every
 * plane maxes into the image; along y (x) plane z gives image row z, the maximum over y (x).
 */
export function foldSlab(
  image: GrayImage16,
  slab: Uint16Array,
  shapeZyx: Zyx,
  z0: number,
  axis: ProjectionAxis,
  shrink = 1,
): void {
  const [, ny, nx] = shapeZyx;
  const plane = ny * nx;
  const planes = slab.length / plane;
  const out = image.pixels;
  const w = image.width;
  const k = shrink;
  for (let p = 0; p < planes; p++) {
    const base = p * plane;
    const z = z0 + p;
    if (axis === 'z' && k === 1) {
      for (let i = 0; i < plane; i++) {
        const v = slab[base + i]!;
        if (v > out[i]!) out[i] = v;
      }
      continue;
    }
    for (let y = 0; y < ny; y++) {
      const src = base + y * nx;
      if (axis === 'x') {
        let m = 0;
        for (let x = 0; x < nx; x++) if (slab[src + x]! > m) m = slab[src + x]!;
        const o = Math.floor(z / k) * w + Math.floor(y / k);
        if (m > out[o]!) out[o] = m;
        continue;
      }
      const row = (axis === 'z' ? Math.floor(y / k) : Math.floor(z / k)) * w;
      // k source pixels per image pixel, walked as runs: no division per pixel
      for (let xo = 0, x = 0; xo < w; xo++) {
        let m = out[row + xo]!;
        for (const end = Math.min(nx, x + k); x < end; x++) if (slab[src + x]! > m) m = slab[src + x]!;
        out[row + xo] = m;
      }
    }
  }
}

/**
 * Fits an image into a `size` x `size` box keeping its aspect ratio (nearest neighbour when
 * growing, maximum of the covered source pixels when shrinking): for contact-sheet cells.
 */
export function fitInto(image: GrayImage16, size: number): GrayImage16 {
  const scale = Math.min(size / image.width, size / image.height);
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const pixels = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy0 = Math.floor(y / scale);
    const sy1 = Math.min(image.height, Math.max(sy0 + 1, Math.floor((y + 1) / scale)));
    for (let x = 0; x < width; x++) {
      const sx0 = Math.floor(x / scale);
      const sx1 = Math.min(image.width, Math.max(sx0 + 1, Math.floor((x + 1) / scale)));
      let m = 0;
      for (let sy = sy0; sy < sy1; sy++)
        for (let sx = sx0; sx < sx1; sx++) {
          const v = image.pixels[sy * image.width + sx]!;
          if (v > m) m = v;
        }
      pixels[y * width + x] = m;
    }
  }
  return { width, height, pixels };
}
