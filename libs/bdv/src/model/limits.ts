/**
 * The largest dataset this library writes, stated once. Each cap is far above real light-sheet
 * acquisitions and far below what would stall a writer, exhaust its memory or make an XML no one
 * can open; docs/operations.md ("Limits") says why each sits where it does. The resolvers of
 * model/ enforce them (the library is used directly), and libs/contract's request schemas repeat
 * them so the HTTP API refuses at submit, with the bound in its OpenAPI schema.
 */

/** Illuminations, channels, tiles or angles of one dataset (each), and their product (setups). */
export const MAX_SETUP_COUNT = 10_000;
export const MAX_SETUPS = 10_000;

/** Timepoints of one dataset; time indices are 0 .. MAX_TIMEPOINTS - 1 (`t%05d` stays 5 digits). */
export const MAX_TIMEPOINTS = 100_000;

/**
 * Timepoints x setups: the XML lists every one of them (a ViewRegistration or a MissingView), so
 * this bounds the XML's size (~50 bytes per missing view, ~400 per written one).
 */
export const MAX_VIEWS = 1_000_000;

/** Pyramid levels (factor 2 per level from full resolution reaches 1/512). */
export const MAX_LEVELS = 10;
/** A subsampling factor on any axis (2^10). */
export const MAX_SUBSAMPLING_FACTOR = 1024;

/** HDF5 chunk (block) edge in y and x, and in z (every slab is whole chunks deep). */
export const MAX_BLOCK_DIM = 4096;
export const MAX_BLOCK_DEPTH = 256;
/** Voxels of one chunk (2^24 = 32 MiB of uint16): HDF5 filters and caches whole chunks. */
export const MAX_CHUNK_VOXELS = 2 ** 24;

/**
 * HDF5 chunks of one view, all levels together, a chunk under SMALL_CHUNK_VOXELS counting
 * SMALL_CHUNK_WEIGHT times. Measured with `bdv convert` (2026-11-29, one level, peak RSS; the
 * writer's heap may not pass 2 GiB): BigDataViewer's 16,16,16 costs next to nothing a chunk
 * (512x2048x2048: 524,288 chunks, 378 MiB; 128x2048x2048: 131,072, 374 MiB), but chunks of a few
 * voxels cost HDF5 3-6 KiB each (64x512x512 in 4,4,4: 262,144 chunks, 980 MiB; in 2,4,4: 524,288,
 * 1.8 GiB; in 1,4,4 the heap ran out; 8x512x512 in 1,4,4: 131,072, 940 MiB). The bound refuses
 * what would exhaust the heap minutes into a view and keeps 16,16,16 for stacks of ~30 GiB.
 */
export const MAX_VIEW_CHUNKS = 2 ** 22;
export const SMALL_CHUNK_VOXELS = 1024;
export const SMALL_CHUNK_WEIGHT = 16;

/** A stack's extent on any axis (2^20), and its voxels (2^40 = 2 TiB of uint16). */
export const MAX_STACK_DIM = 2 ** 20;
export const MAX_STACK_VOXELS = 2 ** 40;

/**
 * What writing one view buffers, summed over its levels: one output slab a whole chunk deep (a
 * level's chunk depth x its plane) and, for subsampled levels, a float64 accumulator plane. With
 * the reader's slabs this is about a third of a view's peak memory; 256 MiB keeps a view within a
 * writer slot's 1 GiB (k8s/base/writer.yaml).
 */
export const MAX_VIEW_BUFFER_BYTES = 2 ** 28;

/** Labels, units, names and microscope fields written into the XML. */
export const MAX_TEXT_LENGTH = 256;
