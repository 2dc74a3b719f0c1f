import { loadNativeBinding } from '../h5/native-binding.js';
import { addPlaneBlockSums, addSumPlaneBlockSums, takeBlockMeans } from './block-mean.js';

/** The streaming pyramid's three loops, with block-mean.ts's signatures and results. */
export interface BlockKernels {
  addPlaneBlockSums: typeof addPlaneBlockSums;
  addSumPlaneBlockSums: typeof addSumPlaneBlockSums;
  takeBlockMeans: typeof takeBlockMeans;
}

/** The loops in TypeScript (block-mean.ts): the reference, and what runs without the binding. */
export const TYPESCRIPT_KERNELS: BlockKernels = { addPlaneBlockSums, addSumPlaneBlockSums, takeBlockMeans };

/**
 * libs/bdv/native/bdv_pyramid.c where it was built (2-3x faster, docs/adr/031), else the
 * TypeScript loops; `BDV_NATIVE_PYRAMID=off` chooses the latter (to tell a fault of the binding
 * from one elsewhere). Read when a level's stream is made: the binding is looked for once per thread.
 */
export function blockKernels(): BlockKernels {
  if (process.env.BDV_NATIVE_PYRAMID === 'off') return TYPESCRIPT_KERNELS;
  return (
    loadNativeBinding<BlockKernels>(
      'bdv_pyramid',
      'BDV_NATIVE_PYRAMID',
      "the pyramid's block sums run in TypeScript",
    ) ?? TYPESCRIPT_KERNELS
  );
}
