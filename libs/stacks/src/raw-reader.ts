import type { ByteSource } from './byte-source.js';
import { ContiguousStackReader } from './contiguous-reader.js';
import { checkExpectation } from './expectation.js';
import { StackError } from './stack-error.js';
import type { ByteOrder, StackExpectation } from './stack-reader.js';

export interface RawLayout extends StackExpectation {
  shapeZyx?: number[];
  byteOrder?: ByteOrder;
  /** Bytes to skip before the first sample (a fixed-size vendor header). */
  headerBytes?: number;
}

/** Opens headerless samples: the caller must give the shape; dtype defaults to uint16, little-endian. */
export function openRaw(source: ByteSource, layout: RawLayout): ContiguousStackReader {
  if (!layout.shapeZyx || layout.shapeZyx.length !== 3) {
    throw new StackError(
      'BAD_HEADER',
      `${source.name}: raw input needs shapeZyx (3 integers z,y,x)`,
      source.name,
    );
  }
  const shape: [number, number, number] = [layout.shapeZyx[0]!, layout.shapeZyx[1]!, layout.shapeZyx[2]!];
  const sampleType = layout.dtype ?? 'uint16';
  checkExpectation(source.name, shape, sampleType, { ...layout, dtype: undefined });
  const headerBytes = layout.headerBytes ?? 0;
  return new ContiguousStackReader(
    source,
    'raw',
    shape,
    sampleType,
    layout.byteOrder ?? 'little',
    headerBytes,
  );
}
