/**
 * npy2bdv's mipmap arithmetic (skimage downscale_local_mean then astype(uint16)): each output
 * voxel is floor(sum of its fz*fy*fx input block / (fz*fy*fx)), where blocks that overhang the
 * end of an axis count the missing voxels as zeros but still divide by the full block volume.
 * Sums are kept in float64, exact for any block up to 2^37 voxels of uint16.
 */

/** Adds the fy*fx block sums of one (ny, nx) uint16 plane into `acc` (ceil(ny/fy) x ceil(nx/fx)). */
export function addPlaneBlockSums(
  plane: Uint16Array,
  ny: number,
  nx: number,
  fy: number,
  fx: number,
  acc: Float64Array,
): void {
  const nxo = Math.ceil(nx / fx);
  const fullBlocks = Math.floor(nx / fx);
  for (let y = 0; y < ny; y++) {
    const rowIn = y * nx;
    const rowOut = Math.floor(y / fy) * nxo;
    if (fx === 1) {
      for (let x = 0; x < nx; x++) acc[rowOut + x]! += plane[rowIn + x]!;
      continue;
    }
    let x = rowIn;
    for (let ox = 0; ox < fullBlocks; ox++) {
      let s = 0;
      for (let k = 0; k < fx; k++) s += plane[x++]!;
      acc[rowOut + ox]! += s;
    }
    if (fullBlocks < nxo) {
      let s = 0;
      const end = rowIn + nx;
      while (x < end) s += plane[x++]!;
      acc[rowOut + fullBlocks]! += s;
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
