import type { SlabBufferSource, SlabStack, Zyx } from '@bdv-cluster/bdv';

export const STACK_FORMATS = ['npy', 'raw', 'tiff'] as const;
export type StackFormat = (typeof STACK_FORMATS)[number];

/** The sample types we accept; everything becomes uint16 (uint8 only when widening is asked for). */
export const SAMPLE_TYPES = ['uint16', 'uint8'] as const;
export type SampleType = (typeof SAMPLE_TYPES)[number];
export const BYTE_ORDERS = ['little', 'big'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/** What a caller knows or demands of a stack before reading it (a manifest's `source`). */
export interface StackExpectation {
  shapeZyx?: number[];
  dtype?: SampleType;
  /** Accept 8-bit input and widen it to uint16 (never silently). */
  allowUint8?: boolean;
}

/** An opened input: header parsed and checked, pixels not yet read. */
export interface StackReader {
  readonly name: string;
  readonly format: StackFormat;
  readonly shapeZyx: Zyx;
  readonly sampleType: SampleType;
  /** Bytes of pixel data in the source (progress is counted against this). */
  readonly dataBytes: number;
  /**
   * Consecutive slabs of `depth` planes (the last may be shorter) as uint16 in native order.
   * A slab stays valid only until the next is requested: buffers are reused. With `buffers`, a
   * reader that can read in place fills those instead (the BDV writer's heap: no copy on the way
   * to HDF5), and its slabs are views that the consumer re-makes as SlabBuffer says.
   */
  slabs(depth: number, buffers?: SlabBufferSource): AsyncIterable<Uint16Array>;
  close(): Promise<void>;
}

/**
 * The BDV writer's heap buffers, loaded with the writer when first asked for (importing the
 * format core eagerly would make every import of the readers pay for it).
 */
const writerBuffers: SlabBufferSource = async (bytes) =>
  (await import('@bdv-cluster/bdv')).writerSlabBuffers(bytes);

/** The reader's slabs for the BDV writer of this thread, read straight into its heap where possible. */
export function asSlabStack(reader: StackReader, depth: number): SlabStack {
  return { shapeZyx: reader.shapeZyx, slabs: reader.slabs(depth, writerBuffers) };
}
