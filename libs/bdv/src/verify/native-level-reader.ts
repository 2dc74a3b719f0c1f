import pMap from 'p-map';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isMainThread } from 'node:worker_threads';
import { inflate, inflateSync } from 'node:zlib';
import { RunningChecksum, type LevelChecksum } from '../model/checksums.js';
import type { Zyx } from '../model/pyramid-spec.js';
import { nativeDeflate, type NativeDeflate } from '../h5/native-deflate.js';
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

/** Chunks of one slab inflating at once: keeps the libuv pool busy, and memory bounded. */
const INFLATES_AT_ONCE = 8;

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
 * A level's CRC-32 computed from the file's bytes, z-slab by z-slab (one chunk deep): each
 * chunk read where the index says, inflated if it was deflated (see inflateChunk), its rows put
 * in C order, the slab summed. The index lists every chunk once, in order (readChunkIndex), so
 * the chunks of a slab cover it whole. Throws on a chunk that cannot be read or does not hold (or
 * inflate to) a whole chunk.
 */
export async function checksumOfStoredLevel(fd: number, stored: StoredLevel): Promise<LevelChecksum> {
  const { shapeZyx, index } = stored;
  const [nz, ny, nx] = shapeZyx;
  const [cz, cy, cx] = index.chunkZyx;
  const byZ = new Map<number, StoredChunk[]>();
  for (const chunk of index.chunks) {
    const list = byZ.get(chunk.offsetZyx[0]);
    if (list) list.push(chunk);
    else byZ.set(chunk.offsetZyx[0], [chunk]);
  }
  const sum = new RunningChecksum();
  const slab = takeSlab(Math.min(cz, nz) * ny * nx * 2);
  const perSlab = Math.ceil(ny / cy) * Math.ceil(nx / cx);
  // Read buffers, and libdeflate's output buffers, go round (a fresh 512 KiB buffer per chunk is
  // fresh memory: page faults, and a zero fill for Buffer.alloc), at most one of each per chunk in
  // flight. zlib makes its own output. Which inflates is settled once per level (see inflateChunk).
  const spare: Buffer[] = [];
  const spareOutputs: Buffer[] = [];
  const binding = isMainThread || stored.filters[0] !== DEFLATE_FILTER ? undefined : nativeDeflate();
  const wholeBytes = cz * cy * cx * 2;
  const memory = nativeMemory();
  const dropPages = pageDropper();
  for (let z0 = 0; z0 < nz; z0 += cz) {
    const dz = Math.min(cz, nz - z0);
    const target = slab.subarray(0, dz * ny * nx * 2);
    const chunks = byZ.get(z0) ?? [];
    // Not one byte of the slab before may be summed again as this one's.
    if (chunks.length !== perSlab)
      throw new Error(`planes ${z0}-${z0 + dz - 1}: ${chunks.length} chunks indexed, expected ${perSlab}`);
    await pMap(
      chunks,
      async (chunk) => {
        const raw = readChunk(fd, chunk, wholeBytes, spare.pop());
        const into = binding && { binding, output: spareOutputs.pop() ?? Buffer.allocUnsafeSlow(wholeBytes) };
        try {
          placeChunk(await chunkCells(raw, chunk, stored, wholeBytes, into), chunk, target, stored, memory);
        } finally {
          spare.push(raw.buffer);
          if (into) spareOutputs.push(into.output);
        }
      },
      { concurrency: INFLATES_AT_ONCE },
    );
    sum.add(new Int16Array(target.buffer, target.byteOffset, target.byteLength / 2));
    if (dropPages) dropBehind(fd, chunks, dropPages);
    // A turn for timers after every slab (see checksumOfLevelYielding): uncompressed chunks are
    // read and placed without one, and the finalizer reads a single file on its main thread.
    await nextTurn();
  }
  keepSlab(slab);
  return { level: stored.level, shapeZyx, crc32: sum.hex };
}

/**
 * Lets the page cache go of a slab's chunks once they are summed: freed at once, those pages are
 * the next slab's (docs/adr/027). A read-back from disk otherwise takes a fresh page per byte:
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
 * Slab buffers kept for the next level this thread reads, up to SPARE_SLAB_BYTES: a level's slab
 * (one chunk deep, a whole plane wide: 32 MiB for 4 x 2048 x 2048) is fresh memory otherwise,
 * whose first touch cost ~0.1 s of page faults on the benchmark VM — per level, so 8 views gave
 * each of two verifying threads ~0.4 s of it. Not kept after a level that failed: rare.
 */
const spareSlabs: Uint8Array[] = [];
const SPARE_SLAB_BYTES = 64 * 1024 * 1024;

function takeSlab(bytes: number): Uint8Array {
  const i = spareSlabs.findIndex((b) => b.length >= bytes && b.length <= 2 * bytes + 4096);
  if (i < 0) {
    const fresh = new Uint8Array(bytes);
    adviseHugePages(fresh, bytes);
    return fresh;
  }
  return spareSlabs.splice(i, 1)[0]!.subarray(0, bytes);
}

function keepSlab(slab: Uint8Array): void {
  spareSlabs.push(new Uint8Array(slab.buffer));
  let kept = spareSlabs.reduce((sum, b) => sum + b.length, 0);
  while (kept > SPARE_SLAB_BYTES) kept -= spareSlabs.shift()!.length;
}

/** A chunk's bytes as stored, read into `reuse` when it is large enough. */
function readChunk(
  fd: number,
  chunk: StoredChunk,
  wholeBytes: number,
  reuse?: Buffer,
): { buffer: Buffer; bytes: Buffer } {
  // zlib grows incompressible data by well under 1 %: more is no chunk of ours (nor a reason to
  // allocate the 4 GiB its 32-bit size field allows).
  if (chunk.bytes > wholeBytes + (wholeBytes >> 3) + 1024)
    throw new Error(
      `chunk (${chunk.offsetZyx.join(',')}) claims ${chunk.bytes} bytes for ${wholeBytes} of cells`,
    );
  const buffer = reuse && reuse.length >= chunk.bytes ? reuse : Buffer.allocUnsafeSlow(chunk.bytes);
  const bytes = buffer.subarray(0, chunk.bytes);
  readFully(fd, bytes, chunk.address, `chunk (${chunk.offsetZyx.join(',')})`);
  return { buffer, bytes };
}

/**
 * One chunk's cells (`whole` bytes: a whole chunk, edges padded): its bytes, inflated if it was
 * deflated (see inflateChunk).
 */
async function chunkCells(
  raw: { bytes: Buffer },
  chunk: StoredChunk,
  stored: StoredLevel,
  whole: number,
  into?: InflateInto,
): Promise<Buffer> {
  const deflated = stored.filters[0] === DEFLATE_FILTER && (chunk.filterMask & 1) === 0;
  let cells = raw.bytes;
  try {
    if (deflated) cells = await inflateChunk(raw.bytes, whole, into);
  } catch (error) {
    throw new Error(`chunk (${chunk.offsetZyx.join(',')}) does not inflate: ${(error as Error).message}`);
  }
  if (cells.length !== whole)
    throw new Error(`chunk (${chunk.offsetZyx.join(',')}) holds ${cells.length} bytes, expected ${whole}`);
  return cells;
}
