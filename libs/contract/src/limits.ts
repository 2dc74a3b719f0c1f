/**
 * Request-level caps (the format's own caps live in libs/bdv's model/limits.ts, re-exported
 * here for the schemas). docs/operations.md ("Limits") says why each sits where it does.
 */
export {
  MAX_BLOCK_DEPTH,
  MAX_BLOCK_DIM,
  MAX_CHUNK_VOXELS,
  MAX_LEVELS,
  MAX_SETUP_COUNT,
  MAX_SETUPS,
  MAX_STACK_DIM,
  MAX_STACK_VOXELS,
  MAX_SUBSAMPLING_FACTOR,
  MAX_TEXT_LENGTH,
  MAX_TIMEPOINTS,
  MAX_VIEW_BUFFER_BYTES,
  MAX_VIEW_CHUNKS,
  MAX_VIEWS,
} from '@bdv-cluster/bdv';

/** A dataset name: it becomes a folder and file name. */
export const MAX_NAME_LENGTH = 128;
/** A source URI: S3 keys are at most 1024 bytes, local paths at most 4096 (PATH_MAX). */
export const MAX_URI_LENGTH = 4096;
/** A file-name pattern: matching costs O(name x pattern), so the pattern is short. */
export const MAX_PATTERN_LENGTH = 256;
/** Bytes before the samples of a raw file (vendor headers are kilobytes). */
export const MAX_HEADER_BYTES = 2 ** 30;
/**
 * Voxel sizes, calibrations, affine entries and exposure times: any real value is many orders of
 * magnitude smaller, and bounded values stay finite when BDV composes transforms.
 */
export const MAX_METADATA_MAGNITUDE = 1e12;
/**
 * Voxel sizes, in any unit: from 1 nm in metres to 1 km in micrometres and more. Outside, a value
 * is a mistake — a subnormal like 1e-320 was written into the XML, and BDV's scales and the
 * pyramid proposal (sizes divided by the smallest) lose their precision or overflow.
 */
export const MIN_VOXEL_SIZE = 1e-9;
export const MAX_VOXEL_SIZE = 1e9;
/** A notification URL (browsers and proxies handle URLs of up to ~2,000 characters everywhere). */
export const MAX_NOTIFY_URL_LENGTH = 2048;
/** A notification secret: long enough to resist guessing, short enough for any HMAC key store. */
export const MIN_NOTIFY_SECRET_LENGTH = 16;
export const MAX_NOTIFY_SECRET_LENGTH = 256;
