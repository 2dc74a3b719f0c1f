import { fstatSync } from 'node:fs';
import { readFully } from '../h5/read-fully.js';
import { MAX_CHUNK_VOXELS } from '../model/limits.js';

/**
 * Where a chunked dataset's chunks lie in an HDF5 file, read from the file's bytes by this code
 * alone (not by HDF5): the superblock, the dataset's object header and its layout message, and
 * the version-1 B-tree that indexes the chunks. That is the structure h5wasm writes for our cells
 * (superblock 2, object header 2, layout 3; the cells may grow, so their index is a B-tree).
 * Anything else answers `undefined` — not ours to read this way, HDF5 reads it — and so does a
 * dataset with chunks never written (HDF5 reads those as its fill value). A structure that is
 * ours but broken throws. Every number read from the file is bounded before it is used: a
 * crafted file makes this throw or answer undefined, never allocate or loop without end.
 */

/** One stored chunk: its first element (z,y,x), where its bytes are and how many. */
export interface StoredChunk {
  offsetZyx: [number, number, number];
  address: number;
  bytes: number;
  /** Bit i set: filter i of the pipeline was not applied to this chunk. */
  filterMask: number;
}

export interface ChunkIndex {
  chunkZyx: [number, number, number];
  /** Every chunk of the dataset, once each, in the B-tree's (z,y,x) order. */
  chunks: StoredChunk[];
}

/** What HDF5 (h5wasm) says of the dataset, and how much a reader may hold at once. */
export interface ExpectedStorage {
  shapeZyx: readonly number[];
  chunkZyx: readonly number[];
  /**
   * A row of chunks (one chunk deep, one chunk tall, the whole plane wide: what a reader holds at
   * least) above this is not read this way.
   */
  maxRowBytes: number;
}

const SUPERBLOCK_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const MESSAGE_DATASPACE = 0x01;
const MESSAGE_LAYOUT = 0x08;
const MESSAGE_CONTINUATION = 0x10;
/** Message flag: the message lives elsewhere (a shared message), not in this header. */
const MESSAGE_SHARED = 0x02;
const LAYOUT_CHUNKED = 2;
/** Deeper than any tree of 2^32 chunks. */
const MAX_TREE_LEVEL = 32;
/** Far more than any object header block HDF5 writes for a dataset (a few hundred bytes). */
const MAX_HEADER_BLOCK_BYTES = 1 << 20;
const MAX_HEADER_BLOCKS = 1000;
/** A 1 TiB view in 512 KiB chunks has 2M; a larger index is read through HDF5. */
const MAX_INDEXED_CHUNKS = 4 * 1024 * 1024;

class Bytes {
  constructor(
    private readonly fd: number,
    readonly fileBytes: number,
  ) {}

  inFile(address: number, length: number): boolean {
    return Number.isSafeInteger(address) && address >= 0 && address + length <= this.fileBytes;
  }

  at(address: number, length: number, what: string): Buffer {
    if (!this.inFile(address, length))
      throw new Error(
        `${what} at byte ${address} (+${length}) lies outside the file (${this.fileBytes} bytes)`,
      );
    const buffer = Buffer.alloc(length);
    readFully(this.fd, buffer, address, what);
    return buffer;
  }
}

const u64 = (b: Buffer, at: number): number => {
  const value = b.readBigUInt64LE(at);
  // An undefined address (all ones) or one past 2^53 is nothing in a file we can read.
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(value);
};

/**
 * The chunk index of the dataset whose object header is at `objectAddress` (HDF5's object
 * token, as h5wasm's object references give it), checked against what HDF5 reports of it.
 */
export function readChunkIndex(
  fd: number,
  objectAddress: number,
  expected: ExpectedStorage,
): ChunkIndex | undefined {
  const bytes = new Bytes(fd, fstatSync(fd).size);
  const superblock = bytes.at(0, 20, 'the superblock');
  if (!superblock.subarray(0, 8).equals(SUPERBLOCK_SIGNATURE)) return undefined;
  const [version, offsetSize, lengthSize] = [superblock[8]!, superblock[9]!, superblock[10]!];
  if ((version !== 2 && version !== 3) || offsetSize !== 8 || lengthSize !== 8) return undefined;
  if (u64(superblock, 12) !== 0) return undefined; // a base address (a user block)

  const messages = headerMessages(bytes, objectAddress);
  if (!messages?.dataspace || !messages.layout) return undefined;
  const dims = dataspaceDims(messages.dataspace);
  const layout = chunkedLayout(messages.layout);
  const { shapeZyx, chunkZyx } = expected;
  if (!dims || !layout || dims.join() !== shapeZyx.join()) return undefined;
  const [cz, cy, cx, elementBytes] = layout.chunk as [number, number, number, number];
  if (layout.chunk.length !== 4 || elementBytes !== 2 || [cz, cy, cx].join() !== chunkZyx.join())
    return undefined;
  if (!(cz >= 1 && cy >= 1 && cx >= 1) || cz * cy * cx > MAX_CHUNK_VOXELS) return undefined;
  const [nz, ny, nx] = shapeZyx as [number, number, number];
  // An empty dataset has no chunks to read: HDF5's to say what it holds.
  if (!(nz >= 1 && ny >= 1 && nx >= 1)) return undefined;
  const grid = [Math.ceil(nz / cz), Math.ceil(ny / cy), Math.ceil(nx / cx)];
  // Whole chunks, edges padded: a reader reads and inflates them before placing their cells.
  if (cz * cy * grid[2]! * cx * 2 > expected.maxRowBytes) return undefined;
  const most = grid[0]! * grid[1]! * grid[2]!;
  if (most > MAX_INDEXED_CHUNKS) return undefined;

  const walk: TreeWalk = {
    bytes,
    chunkZyx: [cz, cy, cx],
    shapeZyx: [nz, ny, nx],
    chunks: [],
    most,
    visited: new Set(),
  };
  if (layout.indexAddress >= 0) collectChunks(walk, layout.indexAddress, undefined);
  // Chunks never written read as the dataset's fill value: HDF5's to say, not ours.
  if (walk.chunks.length < most) return undefined;
  assertApart(walk.chunks);
  return { chunkZyx: [cz, cy, cx], chunks: walk.chunks };
}

interface HeaderMessages {
  dataspace?: Buffer;
  layout?: Buffer;
  /** A dataspace or layout message shared with other objects (stored elsewhere): not followed. */
  shared?: boolean;
}

/** The dataspace and layout messages of a version-2 object header, following continuations. */
function headerMessages(bytes: Bytes, address: number): HeaderMessages | undefined {
  const prefix = bytes.at(address, 6, 'the object header');
  if (prefix.toString('latin1', 0, 4) !== 'OHDR' || prefix[4] !== 2) return undefined;
  const flags = prefix[5]!;
  const sizeBytes = 1 << (flags & 0x03);
  const head = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
  const sizeField = bytes.at(address + head, sizeBytes, 'the object header');
  const chunk0 = sizeBytes === 8 ? u64(sizeField, 0) : sizeField.readUIntLE(0, sizeBytes);
  if (chunk0 < 0 || chunk0 > MAX_HEADER_BLOCK_BYTES) return undefined;
  const found: HeaderMessages = {};
  const first = address + head + sizeBytes;
  const blocks = [{ at: first, length: chunk0 }];
  const seen = new Set([first]);
  while (blocks.length > 0) {
    const block = blocks.shift()!;
    const data = bytes.at(block.at, block.length, 'an object header block');
    readMessages(data, flags, found, (at, length) => {
      // A continuation block starts with its own signature and ends with a checksum.
      if (seen.has(at + 4)) throw new Error(`object header continuation at byte ${at}: read before`);
      if (seen.size >= MAX_HEADER_BLOCKS)
        throw new Error(`object header at byte ${address}: more than ${MAX_HEADER_BLOCKS} blocks`);
      if (length < 8 || length > MAX_HEADER_BLOCK_BYTES)
        throw new Error(`object header continuation at byte ${at}: ${length} bytes`);
      const signature = bytes.at(at, 4, 'an object header continuation').toString('latin1');
      if (signature !== 'OCHK')
        throw new Error(`object header continuation at byte ${at}: no OCHK signature`);
      seen.add(at + 4);
      blocks.push({ at: at + 4, length: length - 8 });
    });
  }
  return found.shared ? undefined : found;
}

function readMessages(
  data: Buffer,
  flags: number,
  found: HeaderMessages,
  onContinuation: (at: number, length: number) => void,
): void {
  const headerBytes = 4 + (flags & 0x04 ? 2 : 0);
  let p = 0;
  // What is left after the last message, when too short for a message header, is a gap.
  while (p + headerBytes <= data.length) {
    const type = data[p]!;
    const size = data.readUInt16LE(p + 1);
    const messageFlags = data[p + 3]!;
    const body = data.subarray(p + headerBytes, p + headerBytes + size);
    if (body.length < size) throw new Error(`object header message of type ${type} runs past its block`);
    // As HDF5 reads a header: the first message of a type is the one that counts.
    if (type === MESSAGE_DATASPACE || type === MESSAGE_LAYOUT) {
      if (messageFlags & MESSAGE_SHARED) found.shared = true;
      if (type === MESSAGE_DATASPACE) found.dataspace ??= body;
      else found.layout ??= body;
    } else if (type === MESSAGE_CONTINUATION) {
      if (size < 16) throw new Error('an object header continuation message is too short');
      onContinuation(u64(body, 0), u64(body, 8));
    }
    p += headerBytes + size;
  }
}

/** Current dimensions of a version-1 or -2 dataspace message. */
function dataspaceDims(body: Buffer): number[] | undefined {
  const version = body[0];
  const rank = body[1] ?? 0;
  const start = version === 1 ? 8 : version === 2 ? 4 : -1;
  if (start < 0 || body.length < start + 8 * rank) return undefined;
  return Array.from({ length: rank }, (_, i) => u64(body, start + 8 * i));
}

/** B-tree address and chunk dimensions (the last one: element size) of a version-3 chunked layout. */
function chunkedLayout(body: Buffer): { indexAddress: number; chunk: number[] } | undefined {
  if (body.length < 3 || body[0] !== 3 || body[1] !== LAYOUT_CHUNKED) return undefined;
  const dimensionality = body[2]!;
  if (body.length < 11 + 4 * dimensionality) return undefined;
  const chunk = Array.from({ length: dimensionality }, (_, i) => body.readUInt32LE(11 + 4 * i));
  return { indexAddress: u64(body, 3), chunk };
}

interface TreeWalk {
  bytes: Bytes;
  chunkZyx: [number, number, number];
  shapeZyx: [number, number, number];
  chunks: StoredChunk[];
  most: number;
  visited: Set<number>;
}

/** Keys of raw-data chunks: size (u32), filter mask (u32), offsets of 3 axes + the element's (u64). */
const KEY_BYTES = 8 + 8 * 4;

/**
 * Walks a version-1 B-tree of raw-data chunks (node type 1). As HDF5 finds a chunk by its key, a
 * tree it can search has every node once, each child one level below its parent and its leaves'
 * keys strictly increasing in (z,y,x): anything else (a chunk listed twice, out of order, a node
 * reached twice) is broken, and a reader that took it as it comes could sum chunks HDF5 cannot find.
 */
function collectChunks(walk: TreeWalk, address: number, level: number | undefined): void {
  if (walk.visited.has(address)) throw new Error(`chunk B-tree node at byte ${address}: reached twice`);
  walk.visited.add(address);
  const head = walk.bytes.at(address, 24, 'a chunk B-tree node');
  if (head.toString('latin1', 0, 4) !== 'TREE' || head[4] !== 1)
    throw new Error(`chunk B-tree node at byte ${address}: no TREE signature of a chunk index`);
  const nodeLevel = head[5]!;
  if ((level !== undefined && nodeLevel !== level) || nodeLevel > MAX_TREE_LEVEL)
    throw new Error(
      `chunk B-tree node at byte ${address}: at level ${nodeLevel}, expected ${level ?? '<= 32'}`,
    );
  const entries = head.readUInt16LE(6);
  if (nodeLevel === 0 && walk.chunks.length + entries > walk.most)
    throw new Error(`chunk B-tree at byte ${address}: more chunks than the dataset holds`);
  const body = walk.bytes.at(address + 24, entries * (KEY_BYTES + 8) + KEY_BYTES, 'a chunk B-tree node');
  for (let i = 0; i < entries; i++) {
    const key = i * (KEY_BYTES + 8);
    const child = u64(body, key + KEY_BYTES);
    if (nodeLevel > 0) collectChunks(walk, child, nodeLevel - 1);
    else walk.chunks.push(leafChunk(walk, body, key, child));
  }
}

/** A leaf entry, checked: on the chunk grid, inside the shape, after the previous one, in the file. */
function leafChunk(walk: TreeWalk, body: Buffer, key: number, address: number): StoredChunk {
  const offsetZyx: [number, number, number] = [u64(body, key + 8), u64(body, key + 16), u64(body, key + 24)];
  const at = `chunk (${offsetZyx.join(',')})`;
  if (
    u64(body, key + 32) !== 0 ||
    offsetZyx.some((o, i) => o < 0 || o % walk.chunkZyx[i]! || o >= walk.shapeZyx[i]!)
  )
    throw new Error(`${at} lies off the chunk grid or the shape`);
  const previous = walk.chunks.at(-1)?.offsetZyx;
  if (previous && !isAfter(offsetZyx, previous))
    throw new Error(`${at} comes after (${previous.join(',')}) in the index: listed twice or out of order`);
  const bytes = body.readUInt32LE(key);
  if (!walk.bytes.inFile(address, bytes))
    throw new Error(`${at}: its ${bytes} bytes at byte ${address} lie outside the file`);
  return { offsetZyx, address, bytes, filterMask: body.readUInt32LE(key + 4) };
}

function isAfter(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/**
 * HDF5 gives every chunk bytes of its own. Chunks whose bytes overlap are a crafted or broken
 * index: the same bytes could pass as several chunks (a CRC would not tell), and a reader holding
 * a band of them would hold those bytes as often as they are listed.
 */
function assertApart(chunks: readonly StoredChunk[]): void {
  const byAddress = [...chunks].sort((a, b) => a.address - b.address);
  for (let i = 1; i < byAddress.length; i++) {
    const [before, after] = [byAddress[i - 1]!, byAddress[i]!];
    if (before.address + before.bytes > after.address)
      throw new Error(
        `chunk (${after.offsetZyx.join(',')}) at byte ${after.address} overlaps ` +
          `chunk (${before.offsetZyx.join(',')}) at byte ${before.address} (+${before.bytes})`,
      );
  }
}
