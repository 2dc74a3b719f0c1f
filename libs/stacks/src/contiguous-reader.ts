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

  /**
   * Double-buffered: the read of slab k+1 is in flight (libuv thread pool) while the consumer
   * writes slab k to HDF5 on the main thread, so disk reads hide behind writes.
   */
  async *slabs(depth: number): AsyncIterable<Uint16Array> {
    const [nz, ny, nx] = this.shapeZyx;
    const planeBytes = ny * nx * this.bytesPerSample;
    const d = Math.max(1, Math.min(depth, nz));
    const buffers = [new Uint8Array(d * planeBytes), new Uint8Array(nz > d ? d * planeBytes : 0)];
    const widened = this.sampleType === 'uint8' ? new Uint16Array(d * ny * nx) : new Uint16Array(0);
    const start = (z: number, buffer: Uint8Array) => {
      const target = buffer.subarray(0, Math.min(d, nz - z) * planeBytes);
      return readExactly(this.source, this.dataOffset + z * planeBytes, target).then(() => target);
    };
    let pending = start(0, buffers[0]!);
    for (let z = 0, k = 0; z < nz; z += d, k++) {
      const target = await pending;
      if (z + d < nz) pending = start(z + d, buffers[(k + 1) % 2]!);
      yield toUint16(target, this.sampleType, this.byteOrder, widened);
    }
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
