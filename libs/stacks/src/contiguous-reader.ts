import type { SlabBuffer, SlabBufferSource, Zyx } from '@bdv-cluster/bdv';
import { readExactly, type ByteSource } from './byte-source.js';
import { StackError } from './stack-error.js';
import { keepReadBuffer, takeReadBuffer } from './read-buffers.js';
import { toUint16 } from './sample-conversion.js';
import type { ByteOrder, SampleType, StackFormat, StackReader } from './stack-reader.js';

const EMPTY = new Uint16Array(0);

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
   * writes slab k to HDF5 on the main thread, so disk reads hide behind writes. Given `buffers`
   * (the writer's heap) and a source that reads in one call, uint16 samples are read straight
   * into them: no copy between the disk and HDF5, and no fresh memory per view.
   */
  slabs(depth: number, buffers?: SlabBufferSource): AsyncIterable<Uint16Array> {
    const inPlace = buffers && this.source.readsInOneCall && this.sampleType === 'uint16';
    return inPlace ? this.slabsInPlace(depth, buffers) : this.slabsCopied(depth);
  }

  private async *slabsCopied(depth: number): AsyncIterable<Uint16Array> {
    const [nz, ny, nx] = this.shapeZyx;
    const planeBytes = ny * nx * this.bytesPerSample;
    const d = Math.max(1, Math.min(depth, nz));
    const buffers = [takeReadBuffer(d * planeBytes), takeReadBuffer(nz > d ? d * planeBytes : 0)];
    const wide = this.sampleType === 'uint8' ? takeReadBuffer(d * ny * nx * 2) : new Uint8Array(0);
    const widened = new Uint16Array(wide.buffer, wide.byteOffset, wide.byteLength / 2);
    const start = (z: number, buffer: Uint8Array) => {
      const target = buffer.subarray(0, Math.min(d, nz - z) * planeBytes);
      return readExactly(this.source, this.dataOffset + z * planeBytes, target).then(() => target);
    };
    let pending: Promise<Uint8Array> | undefined = start(0, buffers[0]!);
    try {
      for (let z = 0, k = 0; z < nz; z += d, k++) {
        const target = await pending!;
        pending = z + d < nz ? start(z + d, buffers[(k + 1) % 2]!) : undefined;
        yield toUint16(target, this.sampleType, this.byteOrder, widened);
      }
    } finally {
      // A read still in flight writes into its buffer: kept only after it ends.
      await pending?.catch(() => undefined);
      for (const buffer of [...buffers, wide]) keepReadBuffer(buffer);
    }
  }

  private async *slabsInPlace(depth: number, take: SlabBufferSource): AsyncIterable<Uint16Array> {
    const [nz, ny, nx] = this.shapeZyx;
    const planeBytes = ny * nx * 2;
    const d = Math.max(1, Math.min(depth, nz));
    const owned: SlabBuffer[] = [];
    let pending: Promise<number> | undefined;
    try {
      owned.push(await take(d * planeBytes));
      if (nz > d) owned.push(await take(d * planeBytes));
      // Resolves to the slab's byte count; the view is made after the await (see SlabBuffer).
      const start = (z: number, buffer: SlabBuffer) => {
        const bytes = Math.min(d, nz - z) * planeBytes;
        const at = this.dataOffset + z * planeBytes;
        return readExactly(this.source, at, () => buffer.view().subarray(0, bytes)).then(() => bytes);
      };
      pending = start(0, owned[0]!);
      for (let z = 0, k = 0; z < nz; z += d, k++) {
        const bytes = await pending;
        pending = z + d < nz ? start(z + d, owned[(k + 1) % 2]!) : undefined;
        yield toUint16(owned[k % 2]!.view().subarray(0, bytes), 'uint16', this.byteOrder, EMPTY);
      }
    } finally {
      // A read still in flight writes into its buffer: the buffer goes back only after it ends.
      await pending?.catch(() => undefined);
      for (const buffer of owned) buffer.release();
    }
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
