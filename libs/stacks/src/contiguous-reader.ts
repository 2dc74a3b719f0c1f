import type { Zyx } from '@bdv-cluster/bdv';
import { readExactly, type ByteSource } from './byte-source.js';
import { StackError } from './stack-error.js';
import { toUint16 } from './sample-conversion.js';
import type { ByteOrder, SampleType, StackFormat, StackReader } from './stack-reader.js';

/**
 * A C-ordered (z,y,x) block of samples at `dataOffset` — the body of a .npy or a raw file.
 * Checks up front that the source holds exactly the announced bytes, so a truncated or padded
 * file fails before anything is written.
 */
export class ContiguousStackReader implements StackReader {
  readonly dataBytes: number;
  private readonly bytesPerSample: number;

  constructor(
    private readonly source: ByteSource,
    readonly format: StackFormat,
    readonly shapeZyx: Zyx,
    readonly sampleType: SampleType,
    private readonly byteOrder: ByteOrder,
    private readonly dataOffset: number,
  ) {
    this.bytesPerSample = sampleType === 'uint8' ? 1 : 2;
    this.dataBytes = shapeZyx[0] * shapeZyx[1] * shapeZyx[2] * this.bytesPerSample;
    const expected = dataOffset + this.dataBytes;
    if (source.size !== expected) {
      const what =
        dataOffset > 0 ? `${dataOffset} header + ${this.dataBytes} data bytes` : `${this.dataBytes} bytes`;
      throw new StackError(
        source.size < expected ? 'TRUNCATED' : 'SHAPE_MISMATCH',
        `${source.name}: has ${source.size} bytes, expected ${expected} (${what} for ${sampleType} ${shapeZyx.join('x')})`,
        source.name,
      );
    }
  }

  get name(): string {
    return this.source.name;
  }

  async *slabs(depth: number): AsyncIterable<Uint16Array> {
    const [nz, ny, nx] = this.shapeZyx;
    const planeBytes = ny * nx * this.bytesPerSample;
    const d = Math.max(1, Math.min(depth, nz));
    const bytes = new Uint8Array(d * planeBytes);
    const widened = this.sampleType === 'uint8' ? new Uint16Array(d * ny * nx) : new Uint16Array(0);
    for (let z = 0; z < nz; z += d) {
      const planes = Math.min(d, nz - z);
      const target = bytes.subarray(0, planes * planeBytes);
      await readExactly(this.source, this.dataOffset + z * planeBytes, target);
      yield toUint16(target, this.sampleType, this.byteOrder, widened);
    }
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
