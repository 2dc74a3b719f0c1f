import { resolveCompression, type CompressionName, type CompressionSpec } from '../model/compression.js';
import { resolveLevels, type LevelSpec } from '../model/pyramid-spec.js';
import { resolveSetupCounts, type SetupCounts } from '../model/setup-model.js';

/** The options that decide how every view of one dataset is stored (npy2bdv's constructor args). */
export interface BdvFormatOptions {
  setup?: Partial<SetupCounts>;
  /** Per-level subsampling factors, z,y,x (default [[1,1,1]]). */
  subsamplingZyx?: readonly (readonly number[])[];
  /** Per-level chunk shape, z,y,x (default [[4,256,256]]; one entry serves every level). */
  blockSizeZyx?: readonly (readonly number[])[];
  compression?: CompressionName;
  compressionLevel?: number;
}

/** Those options checked and resolved: what a file writer needs, as plain data (threads copy it). */
export interface BdvFormat {
  setup: SetupCounts;
  levels: LevelSpec[];
  compression: CompressionSpec;
  /** Target bytes per HDF5 write; bounds memory (about slab x levels x 3). */
  slabBytes?: number;
}

export function resolveFormat(options: BdvFormatOptions = {}, slabBytes?: number): BdvFormat {
  return {
    setup: resolveSetupCounts(options.setup),
    levels: resolveLevels(options.subsamplingZyx, options.blockSizeZyx),
    compression: resolveCompression(options.compression, options.compressionLevel),
    ...(slabBytes !== undefined ? { slabBytes } : {}),
  };
}
