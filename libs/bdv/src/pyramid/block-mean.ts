/**
 * npy2bdv's mipmap arithmetic (skimage downscale_local_mean then astype(uint16)): each output
 * voxel is floor(sum of its fz*fy*fx input block / (fz*fy*fx)), where blocks that overhang the
 * end of an axis count the missing voxels as zeros but still divide by the full block volume.
 * Sums are kept in float64, exact for any block up to 2^37 voxels of uint16.
 */

/**
 * Adds the fy*fx block sums of one (ny, nx) uint16 plane into `acc` (ceil(ny/fy) x ceil(nx/fx)).
 * The common block widths 2 and 4 have loops of their own (about twice as fast as the general one).
 */
export function addPlaneBlockSums(
  plane: Uint16Array,
  ny: number,
  nx: number,
  fy: number,
  fx: number,
  acc: Float64Array,
): void {
  const nxo = Math.ceil(nx / fx);
  const full = Math.floor(nx / fx);
  for (let y = 0; y < ny; y++) {
    const rowOut = Math.floor(y / fy) * nxo;
    let x = y * nx;
    const end = rowOut + full;
    if (fx === 1) for (let o = rowOut; o < end; o++) acc[o]! += plane[x++]!;
    else if (fx === 2) for (let o = rowOut; o < end; o++, x += 2) acc[o]! += plane[x]! + plane[x + 1]!;
    else if (fx === 4)
      for (let o = rowOut; o < end; o++, x += 4)
        acc[o]! += plane[x]! + plane[x + 1]! + plane[x + 2]! + plane[x + 3]!;
    else
      for (let o = rowOut; o < end; o++) {
        let s = 0;
        for (let k = 0; k < fx; k++) s += plane[x++]!;
        acc[o]! += s;
      }
    if (full < nxo) {
      let s = 0;
      for (const stop = y * nx + nx; x < stop;) s += plane[x++]!;
      acc[end]! += s;
    }
  }
}

/**
 * The same for a plane of block sums (float64) of a finer level: a level whose factors are
 * multiples of a finer level's sums that level's sums instead of re-reading the input (its blocks
 * are unions of the finer blocks, zero padding included, and float64 sums are exact). Kept apart
 * from the uint16 version so that each loop sees one array type (V8 keeps both fast).
 */
export function addSumPlaneBlockSums(
  plane: Float64Array,
  ny: number,
  nx: number,
  fy: number,
  fx: number,
  acc: Float64Array,
): void {
  const nxo = Math.ceil(nx / fx);
  const full = Math.floor(nx / fx);
  for (let y = 0; y < ny; y++) {
    const rowOut = Math.floor(y / fy) * nxo;
    let x = y * nx;
    const end = rowOut + full;
    if (fx === 1) for (let o = rowOut; o < end; o++) acc[o]! += plane[x++]!;
    else if (fx === 2) for (let o = rowOut; o < end; o++, x += 2) acc[o]! += plane[x]! + plane[x + 1]!;
    else
      for (let o = rowOut; o < end; o++) {
        let s = 0;
        for (let k = 0; k < fx; k++) s += plane[x++]!;
        acc[o]! += s;
      }
    if (full < nxo) {
      let s = 0;
      for (const stop = y * nx + nx; x < stop;) s += plane[x++]!;
      acc[end]! += s;
    }
  }
}

/** Writes floor(acc / divisor) into `out` and clears `acc` for the next output plane. */
export function takeBlockMeans(acc: Float64Array, divisor: number, out: Uint16Array): void {
  for (let i = 0; i < acc.length; i++) {
    out[i] = Math.floor(acc[i]! / divisor);
    acc[i] = 0;
  }
}

/**
 * Block mean of a whole in-memory (nz, ny, nx) stack — used for substacks and as the reference
 * the streaming path is tested against.
 */
export function downsampleStack(
  stack: Uint16Array,
  shapeZyx: readonly [number, number, number],
  factorsZyx: readonly [number, number, number],
): Uint16Array {
  const [nz, ny, nx] = shapeZyx;
  const [fz, fy, fx] = factorsZyx;
  const nzo = Math.ceil(nz / fz);
  const planeOut = Math.ceil(ny / fy) * Math.ceil(nx / fx);
  const out = new Uint16Array(nzo * planeOut);
  const acc = new Float64Array(planeOut);
  const divisor = fz * fy * fx;
  const planeIn = ny * nx;
  for (let zo = 0; zo < nzo; zo++) {
    for (let z = zo * fz; z < Math.min(nz, (zo + 1) * fz); z++) {
      addPlaneBlockSums(stack.subarray(z * planeIn, (z + 1) * planeIn), ny, nx, fy, fx, acc);
    }
    takeBlockMeans(acc, divisor, out.subarray(zo * planeOut, (zo + 1) * planeOut));
  }
  return out;
}
