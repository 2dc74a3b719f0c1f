import type { SlabBuffer, SlabBufferSource, Zyx } from '@bdv-cluster/bdv';
import { readExactly, type ByteSource } from './byte-source.js';
import { assertKept } from './kept-slab.js';
import { StackError } from './stack-error.js';
import { keepReadBuffer, takeReadBuffer } from './read-buffers.js';
import { isNativeOrder, toUint16 } from './sample-conversion.js';
import type { ByteOrder, SampleType, StackFormat, StackReader } from './stack-reader.js';

const EMPTY = new Uint16Array(0);
/** A read's or population's end, whatever its outcome (a failure is the consumer's to meet). */
const settledAnyway = (): void => undefined;

/**
 * A C-ordered (z,y,x) block of samples at `dataOffset` — the body of a .npy or a raw file.
 * Checks up front that the source holds exactly the announced bytes, so a truncated or padded
 * file fails before anything is written.
 */
export class ContiguousStackReader implements StackReader {
  readonly dataBytes: number;
  private readonly bytesPerSample: number;
  /** In-place readings started by slabs() whose slabs nobody has asked for yet. */
  private readonly unclaimed = new Set<Promise<InPlaceReading>>();

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
   * into them: no copy between the disk and HDF5, and no fresh memory per view. In place, the
   * first slab's read starts here, not at the consumer's first request: it overlaps the writer's
   * setup of the view (opening the file, creating its datasets), and in a fresh process the page
   * faults of a new buffer (~0.1 s for 32 MiB on the benchmark VM) with it. close() gives back
   * the buffers of slabs nobody asked for.
   */
  slabs(depth: number, buffers?: SlabBufferSource): AsyncIterable<Uint16Array> {
    const inPlace = buffers && this.source.readsInOneCall && this.sampleType === 'uint16';
    if (!inPlace) return this.slabsCopied(depth);
    const reading = this.startInPlace(depth, buffers);
    reading.catch(() => undefined); // the consumer meets the error at its first slab
    this.unclaimed.add(reading);
    return this.slabsInPlace(reading);
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
        assertKept(this.source, z, Math.min(d, nz - z), false);
      }
    } finally {
      // A read still in flight writes into its buffer: kept only after it ends.
      await pending?.catch(() => undefined);
      for (const buffer of [...buffers, wide]) keepReadBuffer(buffer);
    }
  }

  /** Takes the buffers and starts reading slab 0; a failed read is left for the consumer. */
  private async startInPlace(depth: number, take: SlabBufferSource): Promise<InPlaceReading> {
    const [nz, ny, nx] = this.shapeZyx;
    const d = Math.max(1, Math.min(depth, nz));
    const owned: SlabBuffer[] = [await take(d * ny * nx * 2)];
    try {
      if (nz > d) owned.push(await take(d * ny * nx * 2));
    } catch (error) {
      owned[0]!.release();
      throw error;
    }
    return { depth: d, owned, first: this.readInPlace(0, d, owned[0]!) };
  }

  /**
   * Puts the slab at plane `z` into `buffer`: mapped from a local file where the buffer can (no
   * copy, docs/adr/024), read into it otherwise; resolves to where in the buffer's view it lies
   * (see SlabBuffer for why not a view).
   */
  private readInPlace(z: number, depth: number, buffer: SlabBuffer): PendingSlab {
    const [nz, ny, nx] = this.shapeZyx;
    const planeBytes = ny * nx * 2;
    const bytes = Math.min(depth, nz - z) * planeBytes;
    const at = this.dataOffset + z * planeBytes;
    const read = () =>
      readExactly(this.source, at, () => buffer.view().subarray(0, bytes)).then(() => ({ offset: 0, bytes }));
    const mapped = this.mappable(at, bytes) ? buffer.mapFile?.(this.source.fd!, at, bytes) : undefined;
    if (!mapped) {
      const reading = read();
      reading.catch(() => undefined); // met by place()
      return {
        place: () => reading,
        settled: () => reading.then(settledAnyway, settledAnyway),
        lost: () => false,
      };
    }
    // A large slab's pages are mapped only when it is asked for (MappedBytes.ready): until then
    // they are read ahead into the page cache, and this process's memory holds one slab, not two.
    let placed: Promise<SlabPlace> | undefined;
    return {
      // The file no longer holds the bytes (it shrank since it was opened): the read says where it ends.
      place: () => (placed ??= mapped.ready().then(() => ({ offset: mapped.offset, bytes }), read)),
      settled: () => placed?.then(settledAnyway, settledAnyway) ?? Promise.resolve(),
      lost: () => mapped.lost(),
    };
  }

  /**
   * Mapped only where that saves work and keeps samples aligned: a local file holding the bytes,
   * samples in this machine's order (a slab swapped in place would copy every mapped page on
   * write), at an even offset (a slab is viewed as uint16). A closed file (fd -1) is read: the
   * read reports it.
   */
  private mappable(at: number, bytes: number): boolean {
    const { fd, size } = this.source;
    return fd !== undefined && fd >= 0 && at % 2 === 0 && at + bytes <= size && isNativeOrder(this.byteOrder);
  }

  /**
   * Slab k lives in buffer k % 2 while the next one is read (or mapped and read ahead) into the
   * other. The consumer asks for slab k + 1 only once done with slab k (the writer pushes a slab
   * through every level, checksum settled, before it asks), so slab k's buffer then takes slab
   * k + 2 — before slab k + 1 is populated, so that a mapped slab k leaves memory first.
   */
  private async *slabsInPlace(reading: Promise<InPlaceReading>): AsyncIterable<Uint16Array> {
    this.unclaimed.delete(reading);
    const nz = this.shapeZyx[0];
    const { depth: d, owned, first } = await reading;
    const slabs = Math.ceil(nz / d);
    const held: (SlabBuffer | undefined)[] = [...owned];
    let current: PendingSlab | undefined = first;
    let next: PendingSlab | undefined = slabs > 1 ? this.readInPlace(d, d, owned[1]!) : undefined;
    try {
      for (let k = 0; k < slabs; k++) {
        const { offset, bytes } = await current!.place();
        yield toUint16(
          owned[k % 2]!.view().subarray(offset, offset + bytes),
          'uint16',
          this.byteOrder,
          EMPTY,
        );
        // The consumer is done with slab k: a file that shrank under its mapped pages (zeros read
        // in their place) fails the view here, before the consumer keeps anything of it.
        assertKept(this.source, k * d, Math.min(d, nz - k * d), current!.lost());
        current = next;
        if (k + 2 < slabs) {
          next = this.readInPlace((k + 2) * d, d, owned[k % 2]!);
        } else {
          // No slab left for this buffer: given back now, not after the last slab.
          next = undefined;
          held[k % 2]?.release();
          held[k % 2] = undefined;
        }
      }
    } finally {
      await releaseWhenRead(
        held.filter((buffer) => buffer !== undefined),
        [current, next],
      );
    }
  }

  async close(): Promise<void> {
    // Slabs asked for but never read by anyone (a view refused before its first slab).
    const unclaimed = [...this.unclaimed];
    this.unclaimed.clear();
    for (const reading of unclaimed)
      await reading.then(({ owned, first }) => releaseWhenRead(owned, [first])).catch(() => undefined);
    await this.source.close();
  }
}

/** In-place reading under way: the writer's buffers, and the read of slab 0 into the first. */
interface InPlaceReading {
  depth: number;
  owned: SlabBuffer[];
  first: PendingSlab;
}

/** A slab on its way into its buffer. */
interface PendingSlab {
  /** Where it lies once it may be used; a failed read rejects. */
  place(): Promise<SlabPlace>;
  /**
   * Resolves once nothing writes into the buffer any more (it may then be given back): a read in
   * flight does; populating or prefetching mapped pages writes nothing, and may outlive it.
   */
  settled(): Promise<void>;
  /**
   * True when mapped bytes were found gone from the file while they were used (libs/bdv's
   * MappedBytes.lost: zeros read in their place). Asked once the consumer is done with the slab,
   * before its buffer is reused.
   */
  lost(): boolean;
}

/** Where a slab lies in its buffer's view. */
interface SlabPlace {
  offset: number;
  bytes: number;
}

/** A read still in flight writes into its buffer: the buffers go back only after it ends. */
async function releaseWhenRead(owned: SlabBuffer[], pending: (PendingSlab | undefined)[]): Promise<void> {
  for (const slab of pending) await slab?.settled();
  for (const buffer of owned) buffer.release();
}
