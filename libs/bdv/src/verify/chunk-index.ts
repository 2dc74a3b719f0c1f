import { fstatSync, readSync } from 'node:fs';

/**
 * Where a chunked dataset's chunks lie in an HDF5 file, read from the file's bytes by this code
 * alone (not by HDF5): the superblock, the dataset's object header and its layout message, and
 * the version-1 B-tree that indexes the chunks. That is the structure h5wasm writes for our cells
 * (superblock 2, object header 2, layout 3; the cells may grow, so their index is a B-tree).
 * Anything else answers `undefined` — not ours to read this way — and a caller reads it through
 * HDF5 instead; a structure that is ours but broken throws.
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
  elementBytes: number;
  chunks: StoredChunk[];
}

const SUPERBLOCK_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const MESSAGE_DATASPACE = 0x01;
const MESSAGE_LAYOUT = 0x08;
const MESSAGE_CONTINUATION = 0x10;
const LAYOUT_CHUNKED = 2;
/** Deeper than any tree of 2^32 chunks: a deeper one loops. */
const MAX_TREE_LEVEL = 32;
/** Far more than any object header block HDF5 writes for a dataset (a few hundred bytes). */
const MAX_HEADER_BLOCK_BYTES = 1 << 20;

class Bytes {
  constructor(
    private readonly fd: number,
    readonly fileBytes: number,
  ) {}

  at(address: number, length: number, what: string): Buffer {
    if (!Number.isSafeInteger(address) || address < 0 || address + length > this.fileBytes)
      throw new Error(
        `${what} at byte ${address} (+${length}) lies outside the file (${this.fileBytes} bytes)`,
      );
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buffer, done, length - done, address + done);
      if (n === 0) throw new Error(`${what} at byte ${address}: the file ended`);
      done += n;
    }
    return buffer;
  }
}

const u64 = (b: Buffer, at: number): number => {
  const value = b.readBigUInt64LE(at);
  // An undefined address (all ones) or one past 2^53 is no chunk of a file we can read.
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(value);
};

/**
 * The chunk index of the dataset whose object header is at `objectAddress` (HDF5's object
 * token, as h5wasm's object references give it), checked against the shape HDF5 reports:
 * undefined when the file or the dataset is stored in a way this reader does not follow.
 */
export function readChunkIndex(
  fd: number,
  objectAddress: number,
  shapeZyx: readonly number[],
): ChunkIndex | undefined {
  const bytes = new Bytes(fd, fstatSync(fd).size);
  const superblock = bytes.at(0, 12, 'the superblock');
  if (!superblock.subarray(0, 8).equals(SUPERBLOCK_SIGNATURE)) return undefined;
  const [version, offsetSize, lengthSize] = [superblock[8]!, superblock[9]!, superblock[10]!];
  if (version < 2 || offsetSize !== 8 || lengthSize !== 8) return undefined;
  const base = u64(bytes.at(12, 8, 'the base address'), 0);
  if (base !== 0) return undefined;

  const messages = headerMessages(bytes, objectAddress);
  if (!messages) return undefined;
  const dims = messages.dataspace && dataspaceDims(messages.dataspace);
  if (!dims || dims.join() !== shapeZyx.join()) return undefined;
  const layout = messages.layout && chunkedLayout(messages.layout);
  if (!layout || layout.chunk.length !== 4) return undefined;
  const [cz, cy, cx, elementBytes] = layout.chunk as [number, number, number, number];
  const chunks: StoredChunk[] = [];
  const most = [0, 1, 2].reduce((n, i) => n * Math.ceil(shapeZyx[i]! / layout.chunk[i]!), 1);
  // Every node but the root leads to at least one chunk in a B-tree HDF5 wrote: more nodes than
  // chunks is a tree built to make us read without end.
  const walk = { chunks, most, nodesLeft: 2 * most + 1 };
  if (layout.indexAddress >= 0) collectChunks(bytes, layout.indexAddress, 4, walk, MAX_TREE_LEVEL + 1);
  return { chunkZyx: [cz, cy, cx], elementBytes, chunks };
}

interface HeaderMessages {
  dataspace?: Buffer;
  layout?: Buffer;
}

/** The dataspace and layout messages of a version-2 object header, following continuations. */
function headerMessages(bytes: Bytes, address: number): HeaderMessages | undefined {
  const prefix = bytes.at(address, 6, 'the object header');
  if (prefix.toString('latin1', 0, 4) !== 'OHDR' || prefix[4] !== 2) return undefined;
  const flags = prefix[5]!;
  const sizeBytes = 1 << (flags & 0x03);
  const head = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
  const sizeField = bytes.at(address + head, sizeBytes, 'the object header');
  const chunk0 = Number(sizeField.readUIntLE(0, sizeBytes));
  if (chunk0 > MAX_HEADER_BLOCK_BYTES) return undefined;
  const found: HeaderMessages = {};
  const blocks = [{ at: address + head + sizeBytes, length: chunk0 }];
  for (let seen = 0; blocks.length > 0; seen++) {
    if (seen > 1000) throw new Error(`object header at byte ${address}: too many continuation blocks`);
    const block = blocks.shift()!;
    const data = bytes.at(block.at, block.length, 'an object header block');
    readMessages(data, flags, found, (at, length) => {
      // A continuation block starts with its own signature and ends with a checksum.
      const signature = bytes.at(at, 4, 'an object header continuation').toString('latin1');
      if (signature !== 'OCHK')
        throw new Error(`object header continuation at byte ${at}: no OCHK signature`);
      if (length < 8 || length > MAX_HEADER_BLOCK_BYTES)
        throw new Error(`object header continuation at byte ${at}: ${length} bytes`);
      blocks.push({ at: at + 4, length: length - 8 });
    });
  }
  return found;
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
    const body = data.subarray(p + headerBytes, p + headerBytes + size);
    if (body.length < size) throw new Error(`object header message of type ${type} runs past its block`);
    if (type === MESSAGE_DATASPACE) found.dataspace = body;
    else if (type === MESSAGE_LAYOUT) found.layout = body;
    else if (type === MESSAGE_CONTINUATION) onContinuation(u64(body, 0), u64(body, 8));
    p += headerBytes + size;
  }
}

/** Current dimensions of a version-1 or -2 dataspace message. */
function dataspaceDims(body: Buffer): number[] | undefined {
  const version = body[0]!;
  const rank = body[1]!;
  const start = version === 1 ? 8 : version === 2 ? 4 : -1;
  if (start < 0 || body.length < start + 8 * rank) return undefined;
  return Array.from({ length: rank }, (_, i) => u64(body, start + 8 * i));
}

/** B-tree address and chunk dimensions (the last one: element size) of a version-3 chunked layout. */
function chunkedLayout(body: Buffer): { indexAddress: number; chunk: number[] } | undefined {
  if (body[0] !== 3 || body[1] !== LAYOUT_CHUNKED) return undefined;
  const dimensionality = body[2]!;
  if (body.length < 11 + 4 * dimensionality) return undefined;
  const chunk = Array.from({ length: dimensionality }, (_, i) => body.readUInt32LE(11 + 4 * i));
  return { indexAddress: u64(body, 3), chunk };
}

/** Walks a version-1 B-tree of raw-data chunks (node type 1), leaves in key order. */
function collectChunks(
  bytes: Bytes,
  address: number,
  dimensionality: number,
  walk: { chunks: StoredChunk[]; most: number; nodesLeft: number },
  levelsLeft: number,
): void {
  if (--walk.nodesLeft < 0) throw new Error(`chunk B-tree: more nodes than the dataset has chunks`);
  const head = bytes.at(address, 24, 'a chunk B-tree node');
  if (head.toString('latin1', 0, 4) !== 'TREE' || head[4] !== 1)
    throw new Error(`chunk B-tree node at byte ${address}: no TREE signature of a chunk index`);
  const level = head[5]!;
  const entries = head.readUInt16LE(6);
  // Levels strictly decrease from the root down: no node can lead back to itself.
  if (level >= levelsLeft) throw new Error(`chunk B-tree at byte ${address}: deeper than it can be`);
  const keyBytes = 8 + 8 * dimensionality;
  const body = bytes.at(address + 24, entries * (keyBytes + 8) + keyBytes, 'a chunk B-tree node');
  for (let i = 0; i < entries; i++) {
    const key = i * (keyBytes + 8);
    const child = u64(body, key + keyBytes);
    if (level > 0) {
      collectChunks(bytes, child, dimensionality, walk, level);
      continue;
    }
    if (walk.chunks.length >= walk.most)
      throw new Error(`chunk B-tree at byte ${address}: more chunks than the dataset holds`);
    walk.chunks.push({
      bytes: body.readUInt32LE(key),
      filterMask: body.readUInt32LE(key + 4),
      offsetZyx: [u64(body, key + 8), u64(body, key + 16), u64(body, key + 24)],
      address: child,
    });
  }
}
