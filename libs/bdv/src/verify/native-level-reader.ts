import pMap from 'p-map';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isMainThread } from 'node:worker_threads';
import { inflate, inflateSync } from 'node:zlib';
import { crc32Hex, type LevelChecksum } from '../model/checksums.js';
import { crc32Appender } from '../model/crc32-combine.js';
import type { Zyx } from '../model/pyramid-spec.js';
import { crc32, nativeDeflate, type NativeDeflate } from '../h5/native-deflate.js';
import { adviseHugePages } from '../h5/huge-pages.js';
import { nativeMemory, pageDropper } from '../h5/native-memory.js';
import { placeChunk } from './place-chunk.js';
import { readFully } from '../h5/read-fully.js';
import type { ChunkIndex, StoredChunk } from './chunk-index.js';

/** libdeflate and the buffer it inflates one chunk into (a whole chunk's size). */
interface InflateInto {
  binding: NativeDeflate;
  output: Buffer;
}

/**
 * A chunk's zlib stream inflated to `size` bytes: by libdeflate into `into` when given (a worker
 * thread with the binding: ~1.6x faster per core than zlib, docs/adr/020); else by Node's zlib,
 * on the main thread (one file: `bdv verify` of a single-layout file, the finalizer's fenced read)
 * on the libuv pool, so one file inflates on several cores, on a worker thread on that thread: its
 * caller runs one per core (FINALIZER_VERIFY_THREADS, `--jobs`), and the process's one pool (4
 * threads) would cap them all at 4 cores.
 */
function inflateChunk(input: Buffer, size: number, into?: InflateInto): Promise<Buffer> | Buffer {
  if (into) {
    into.binding.decompress(input, into.output);
    return into.output;
  }
  if (isMainThread)
    return new Promise<Buffer>((resolve, reject) =>
      inflate(input, inflateOptions(size), (error, inflated) => (error ? reject(error) : resolve(inflated))),
    );
  return inflateSync(input, inflateOptions(size));
}

/**
 * A chunk that inflates past its size fails there, whatever it would grow to (a zip bomb). zlib
 * takes no output piece under 64 bytes (a 1,4,4 block is 32).
 */
const inflateOptions = (size: number) => ({ chunkSize: Math.max(size, 64), maxOutputLength: size });

/** Chunks of one band inflating at once: keeps the libuv pool busy, and memory bounded. */
const INFLATES_AT_ONCE = 8;

/**
 * What a band of chunk rows aims for (as many rows as fit, at least one): small enough to stay in
 * the CPU's caches between placing and summing, large enough to keep INFLATES_AT_ONCE chunks busy.
 */
export const READ_BAND_BYTES = 8 * 1024 * 1024;

/** HDF5's filter id of deflate (gzip). */
export const DEFLATE_FILTER = 1;

/** How one level's cells are stored: what `checksumOfStoredLevel` needs besides the file. */
export interface StoredLevel {
  level: number;
  shapeZyx: Zyx;
  index: ChunkIndex;
  /** The dataset's filter pipeline: [] (none) or [DEFLATE_FILTER]. */
  filters: readonly number[];
}

/**
 * A level's CRC-32 computed from the file's bytes, band by band: a band is one chunk deep and as
 * many rows of chunks tall as fit in `bandBytes` (at least one), a whole plane wide. Each chunk is
 * read where the index says (adjacent chunks in one read), inflated if it was deflated (see
 * inflateChunk) — once, however deep or tall it is — and its rows put in C order in the band. A
 * band holds a segment of each of its planes: each plane's segments are summed in turn, and the
 * planes' CRCs joined in z order (crc32-combine.ts) give the CRC of the level in C order. The
 * index lists every chunk once, in (z,y,x) order (readChunkIndex), so each band is the next run of
 * the list. Throws on a chunk that cannot be read or does not hold (or inflate to) a whole chunk.
 */
export async function checksumOfStoredLevel(
  fd: number,
  stored: StoredLevel,
  bandBytes = READ_BAND_BYTES,
): Promise<LevelChecksum> {
  const { shapeZyx, index } = stored;
  const [nz, ny, nx] = shapeZyx;
  const [cz, cy, cx] = index.chunkZyx;
  if (!(nz >= 1 && ny >= 1 && nx >= 1))
    throw new Error(`an empty level (${shapeZyx.join('x')}) has no chunks`);
  const perRow = Math.ceil(nx / cx);
  // Sized by whole chunks (edges padded), as they are read and inflated, and never more rows
  // than the level has: a 1x1x1 level in 16³ blocks is one 8 KiB chunk, not 8 MiB of them.
  const rowsPerBand = Math.min(
    Math.ceil(ny / cy),
    Math.max(1, Math.floor(bandBytes / (perRow * cz * cy * cx * 2))),
  );
  const appendPlane = crc32Appender(ny * nx * 2);
  const bands = [...bandsOf(shapeZyx, index.chunkZyx, rowsPerBand)];
  const band = takeBuffer(Math.min(cz, nz) * Math.min(rowsPerBand * cy, ny) * nx * 2);
  const reader = new BandReader(fd, stored, largestBand(index, bands));
  const dropPages = pageDropper();
  let crc = 0;
  let planeCrcs: number[] = [];
  for (const { z0, dz, y0, dy, first, count } of bands) {
    if (y0 === 0) planeCrcs = new Array<number>(dz).fill(0);
    const chunks = index.chunks.slice(first, first + count);
    // Not one byte of another band may be summed as this one's.
    const stray = chunks.find((c, i) => !isBandChunk(c, i, [z0, y0], perRow, [cy, cx]));
    if (chunks.length !== count || stray)
      throw new Error(
        `planes ${z0}-${z0 + dz - 1}, rows ${y0}-${y0 + dy - 1}: ` +
          (stray
            ? `chunk (${stray.offsetZyx.join(',')}) is not theirs`
            : `${chunks.length} chunks indexed, expected ${count}`),
      );
    const target = band.subarray(0, dz * dy * nx * 2);
    await reader.place(chunks, target, y0, [dz, dy, nx]);
    const segment = dy * nx * 2;
    for (let p = 0; p < dz; p++)
      planeCrcs[p] = crc32(target.subarray(p * segment, (p + 1) * segment), planeCrcs[p]);
    if (dropPages) dropBehind(fd, chunks, dropPages);
    // The chunk depth's last band: its planes are whole, and join the level in z order.
    if (y0 + dy === ny) for (const planeCrc of planeCrcs) crc = appendPlane(crc, planeCrc);
    // A turn for timers after every band (see checksumOfLevelYielding): uncompressed chunks are
    // read and placed without one, and the finalizer reads a single file on its main thread.
    await nextTurn();
  }
  const last = bands.at(-1)!;
  const past = index.chunks.length - (last.first + last.count);
  if (past > 0) throw new Error(`${past} chunks indexed past the level's last plane`);
  keepBuffer(band);
  reader.release();
  return { level: stored.level, shapeZyx, crc32: crc32Hex(crc) };
}

/**
 * One band of a level: planes z0 .. z0+dz, rows y0 .. y0+dy, the whole width; `count` chunks from
 * `first` of the index.
 */
interface Band {
  z0: number;
  dz: number;
  y0: number;
  dy: number;
  first: number;
  count: number;
}

/**
 * A level's bands in the index's (z,y,x) order: `rowsPerBand` rows of chunks each, fewer in the
 * last band of each chunk depth.
 */
function* bandsOf(shapeZyx: Zyx, [cz, cy, cx]: Zyx, rowsPerBand: number): Generator<Band> {
  const [nz, ny, nx] = shapeZyx;
  const perRow = Math.ceil(nx / cx);
  let first = 0;
  for (let z0 = 0; z0 < nz; z0 += cz)
    for (let y0 = 0; y0 < ny; y0 += rowsPerBand * cy) {
      const dy = Math.min(rowsPerBand * cy, ny - y0);
      const count = Math.ceil(dy / cy) * perRow;
      yield { z0, dz: Math.min(cz, nz - z0), y0, dy, first, count };
      first += count;
    }
}

/**
 * The most stored bytes of one of `bands`, in the index's order. Throws on a chunk claiming more
 * bytes than its cells could deflate to: zlib grows incompressible data by well under 1 %, so
 * more is no chunk of ours (nor a reason to allocate the 4 GiB its 32-bit size field allows).
 */
function largestBand(index: ChunkIndex, bands: readonly Band[]): number {
  const [cz, cy, cx] = index.chunkZyx;
  const whole = cz * cy * cx * 2;
  const most = whole + (whole >> 3) + 1024;
  let largest = 0;
  for (const { first, count } of bands) {
    let bytes = 0;
    for (const chunk of index.chunks.slice(first, first + count)) {
      if (chunk.bytes > most)
        throw new Error(
          `chunk (${chunk.offsetZyx.join(',')}) claims ${chunk.bytes} bytes for ${whole} of cells`,
        );
      bytes += chunk.bytes;
    }
    largest = Math.max(largest, bytes);
  }
  return largest;
}

/** Whether `chunk` is where the `i`th chunk of the band at (z0, y0) is, in the index's order. */
function isBandChunk(
  chunk: StoredChunk,
  i: number,
  [z0, y0]: [number, number],
  perRow: number,
  [cy, cx]: [number, number],
): boolean {
  const [z, y, x] = chunk.offsetZyx;
  return z === z0 && y === y0 + Math.floor(i / perRow) * cy && x === (i % perRow) * cx;
}

/** A read covers at most this much of adjacent chunks (one chunk more, if larger). */
const READ_RUN_BYTES = 1024 * 1024;

/** Adjacent chunks of a band read at once: `first` to `end` (exclusive) of the band's list. */
interface ReadRun {
  first: number;
  end: number;
  /** Where its bytes go in the reader's input buffer. */
  at: number;
  read: boolean;
}

/**
 * Reads a band's chunks and places their cells. Chunks adjacent in the file are read together, up
 * to READ_RUN_BYTES (a 16,16,16 block is 8 KiB: a read per chunk cost more than its bytes), each
 * run when its first chunk comes up, so that on the main thread reads go on while the libuv pool
 * inflates the chunks before (a band read whole first left the pool idle meanwhile: 2.1 s against
 * 1.9 s for 512 MiB of gzip cells read cold). One input buffer is kept for the level; libdeflate's
 * output buffers (a whole chunk each) go round, at most one per chunk in flight. zlib makes its
 * own output. Which inflates is settled once per level (see inflateChunk).
 */
class BandReader {
  private readonly wholeBytes: number;
  private readonly binding: NativeDeflate | undefined;
  private readonly inflatesAsync: boolean;
  private readonly memory = nativeMemory();
  private readonly spareOutputs: Buffer[] = [];
  private input: Buffer;

  /**
   * `inputBytes`: the most stored bytes of any band of this level (largestBand). The input buffer
   * is taken once for that: grown band by band instead, it was fresh memory at every new largest
   * band (0.1-0.2 s more system time for 512 MiB of gzip cells). What a chunk may claim is bounded
   * (largestBand), and chunks do not overlap (readChunkIndex), so neither is this.
   */
  constructor(
    private readonly fd: number,
    private readonly stored: StoredLevel,
    inputBytes: number,
  ) {
    const [cz, cy, cx] = stored.index.chunkZyx;
    this.wholeBytes = cz * cy * cx * 2;
    const taken = takeBuffer(Math.max(1, inputBytes));
    this.input = Buffer.from(taken.buffer, taken.byteOffset, taken.byteLength);
    const deflate = stored.filters[0] === DEFLATE_FILTER;
    this.binding = isMainThread || !deflate ? undefined : nativeDeflate();
    this.inflatesAsync = isMainThread && deflate;
  }

  /** The cells of `chunks` into `band`: planes dz, rows dy from row y0, nx wide, C order. */
  async place(chunks: readonly StoredChunk[], band: Uint8Array, y0: number, bandZyx: Zyx): Promise<void> {
    const { runOf, runs, atOf } = this.plan(chunks);
    const bytesOf = (i: number): Buffer => {
      const run = runs[runOf[i]!]!;
      if (!run.read) this.read(chunks, run);
      return this.input.subarray(atOf[i]!, atOf[i]! + chunks[i]!.bytes);
    };
    const grid = { shapeZyx: bandZyx, index: this.stored.index };
    const put = (cells: Buffer, chunk: StoredChunk) =>
      placeChunk(
        cells,
        { offsetZyx: [0, chunk.offsetZyx[1] - y0, chunk.offsetZyx[2]] },
        band,
        grid,
        this.memory,
      );
    if (this.inflatesAsync) {
      await pMap(
        chunks,
        async (chunk, i) => put(await cellsOf(bytesOf(i), chunk, this.stored, this.wholeBytes), chunk),
        { concurrency: INFLATES_AT_ONCE },
      );
      return;
    }
    chunks.forEach((chunk, i) => {
      const into = this.binding && { binding: this.binding, output: this.output() };
      try {
        put(cellsOf(bytesOf(i), chunk, this.stored, this.wholeBytes, into) as Buffer, chunk);
      } finally {
        if (into) this.spareOutputs.push(into.output);
      }
    });
  }

  /** Gives the input buffer back for the next level (see takeBuffer). */
  release(): void {
    if (this.input.length > 0) keepBuffer(this.input);
    this.input = Buffer.alloc(0);
  }

  private output(): Buffer {
    return this.spareOutputs.pop() ?? Buffer.allocUnsafeSlow(this.wholeBytes);
  }

  /** The band's runs of adjacent chunks, each chunk's run, and where its bytes go in the input buffer. */
  private plan(chunks: readonly StoredChunk[]): { runOf: number[]; runs: ReadRun[]; atOf: number[] } {
    const runOf: number[] = [];
    const atOf: number[] = [];
    const runs: ReadRun[] = [];
    let at = 0;
    chunks.forEach((chunk, i) => {
      const run = runs.at(-1);
      const previous = chunks[i - 1];
      const follows = previous !== undefined && chunk.address === previous.address + previous.bytes;
      if (run && follows && at + chunk.bytes - run.at <= READ_RUN_BYTES) run.end = i + 1;
      else runs.push({ first: i, end: i + 1, at, read: false });
      runOf.push(runs.length - 1);
      atOf.push(at);
      at += chunk.bytes;
    });
    // Only where a band holds more bytes than the constructor was told: a programming error.
    if (at > this.input.length) throw new Error(`a band of ${at} bytes: more than planned`);
    return { runOf, runs, atOf };
  }

  private read(chunks: readonly StoredChunk[], run: ReadRun): void {
    const first = chunks[run.first]!;
    const last = chunks[run.end - 1]!;
    const bytes = last.address + last.bytes - first.address;
    const what = run.end - run.first === 1 ? 'chunk' : 'chunks from';
    readFully(
      this.fd,
      this.input.subarray(run.at, run.at + bytes),
      first.address,
      `${what} (${first.offsetZyx.join(',')})`,
    );
    run.read = true;
  }
}

/**
 * Lets the page cache go of a band's chunks once they are summed: freed at once, those pages are
 * the next band's (docs/adr/027). A read-back from disk otherwise takes a fresh page per byte:
 * 4.6 GB read cold in 512 KiB reads took 2.2-8.3 s keeping the pages against 1.3-1.4 s dropping
 * them behind on the benchmark VM. Only the chunks' own bytes, in runs of adjacent chunks: what
 * lies between them (another level's chunks, HDF5's metadata) is yet to be read. What Linux
 * read ahead into those gaps for nothing goes when the whole file has been verified (checkFile).
 */
export function dropBehind(
  fd: number,
  chunks: readonly StoredChunk[],
  drop: (fd: number, offset: number, length: number) => number,
): void {
  const byAddress = [...chunks].sort((a, b) => a.address - b.address);
  let start = -1;
  let end = -1;
  for (const c of byAddress) {
    if (c.address !== end) {
      if (end > start) drop(fd, start, end - start);
      start = c.address;
    }
    end = c.address + c.bytes;
  }
  if (end > start) drop(fd, start, end - start);
}

/**
 * Bands and input buffers kept for the next level this thread reads, up to SPARE_BYTES: a fresh
 * buffer is fresh memory, whose first touch cost ~0.1 s of page faults per 32 MiB on the benchmark
 * VM — per level, so 8 views gave each of two verifying threads ~0.4 s of it when slabs were whole
 * planes (a fresh input buffer per level: 0.1-0.2 s more system time for 8 × 64 MiB of gzip cells).
 * Not kept after a level that failed: rare.
 */
const spareBuffers: Uint8Array[] = [];
const SPARE_BYTES = 64 * 1024 * 1024;

function takeBuffer(bytes: number): Uint8Array {
  const i = spareBuffers.findIndex((b) => b.length >= bytes && b.length <= 2 * bytes + 4096);
  if (i < 0) {
    const fresh = new Uint8Array(bytes);
    adviseHugePages(fresh, bytes);
    return fresh;
  }
  return spareBuffers.splice(i, 1)[0]!.subarray(0, bytes);
}

function keepBuffer(buffer: Uint8Array): void {
  spareBuffers.push(new Uint8Array(buffer.buffer));
  let kept = spareBuffers.reduce((sum, b) => sum + b.length, 0);
  while (kept > SPARE_BYTES) kept -= spareBuffers.shift()!.length;
}

/**
 * One chunk's cells (`whole` bytes: a whole chunk, edges padded): its stored bytes, inflated if
 * it was deflated (see inflateChunk).
 */
function cellsOf(
  bytes: Buffer,
  chunk: StoredChunk,
  stored: StoredLevel,
  whole: number,
  into?: InflateInto,
): Buffer | Promise<Buffer> {
  const deflated = stored.filters[0] === DEFLATE_FILTER && (chunk.filterMask & 1) === 0;
  const checked = (cells: Buffer) => {
    if (cells.length !== whole)
      throw new Error(`chunk (${chunk.offsetZyx.join(',')}) holds ${cells.length} bytes, expected ${whole}`);
    return cells;
  };
  if (!deflated) return checked(bytes);
  const failed = (error: unknown): never => {
    throw new Error(`chunk (${chunk.offsetZyx.join(',')}) does not inflate: ${(error as Error).message}`);
  };
  let cells: Buffer | Promise<Buffer>;
  try {
    cells = inflateChunk(bytes, whole, into);
  } catch (error) {
    return failed(error);
  }
  return cells instanceof Promise ? cells.then(checked, failed) : checked(cells);
}
