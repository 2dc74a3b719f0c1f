// The format's names and defaults, without the HDF5 or XML machinery behind them: what a command
// line or a schema needs to offer choices (cheap to import: `bdv --help` loads only this).
export {
  COMPRESSION_NAMES,
  DEFAULT_GZIP_LEVEL,
  MAX_GZIP_LEVEL,
  type CompressionName,
} from './model/compression.js';
export { LAYOUTS, type Layout } from './model/layout.js';
export { DEFAULT_BLOCK_ZYX, DEFAULT_SUBSAMPLING_ZYX } from './model/pyramid-spec.js';
export {
  DEFAULT_PREVIEW_SIZE,
  MAX_PREVIEW_SIZE,
  PROJECTION_AXES,
  type ProjectionAxis,
} from './preview/level-choice.js';
export { MAX_STACK_DIM, MAX_STACK_VOXELS } from './model/limits.js';
