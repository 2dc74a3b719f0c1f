import { MAX_STACK_DIM } from '@bdv-cluster/bdv/vocabulary';
import { readUpTo, type ByteSource } from './byte-source.js';
import { StackError } from './stack-error.js';

/**
 * Bytes read at once while walking: the IFDs of an ImageJ stack sit together at its end, a
 * tifffile stack has one before each page's samples (one read a page either way).
 */
const BLOCK_BYTES = 16 * 1024;

/**
 * Entries a page's IFD has at least: width, length, and where its strips (or tiles) lie and how
 * long they are. Fewer describe no page; it also makes a page's IFD at least 54 bytes.
 */
const MIN_ENTRIES = 4;

/**
 * How many pages (IFDs) a TIFF or BigTIFF holds, by following its chain of IFD offsets. geotiff's
 * own count follows the chain with no end but a zero offset: a chain that loops back (a 154-byte
 * file will do) never ends, and grows its list of requests until the process runs out of memory.
 *
 * Here the walk is bounded three ways, each ending in a StackError naming the file: a loop is
 * found by Brent's method within about twice its length, at constant memory; a chain longer than
 * `maxPages` (a declared shape's depth, else MAX_STACK_DIM) ends it; and it may read at most twice
 * the file's size (plus a block): a chain zig-zagging across a small file would otherwise cost a
 * block read — an S3 request — per page, a million of them from a 5 MiB file. A chain that leaves
 * the file, an IFD too short to describe a page, or a header that is not TIFF's is BAD_HEADER.
 */
export async function countTiffPages(source: ByteSource, maxPages = MAX_STACK_DIM): Promise<number> {
  const bad = (why: string) =>
    new StackError('BAD_HEADER', `${source.name}: not a readable TIFF (${why})`, source.name);
  const bytes = new BlockReader(source, 2 * source.size + BLOCK_BYTES, bad);
  const header = await bytes.view(0, 16);
  const order = String.fromCharCode(header.getUint8(0), header.getUint8(1));
  if (order !== 'II' && order !== 'MM') throw bad('no II or MM byte order mark');
  const little = order === 'II';
  const version = header.getUint16(2, little);
  if (version !== 42 && version !== 43) throw bad(`version ${version}, expected 42 (TIFF) or 43 (BigTIFF)`);
  const big = version === 43;
  const offsetAt = (view: DataView, at: number) =>
    big ? Number(view.getBigUint64(at, little)) : view.getUint32(at, little);
  const next = async (ifd: number): Promise<number> => {
    if (ifd < (big ? 16 : 8) || ifd >= source.size) throw bad(`an IFD offset (${ifd}) lies outside the file`);
    const count = await bytes.view(ifd, big ? 8 : 2);
    const entries = big ? Number(count.getBigUint64(0, little)) : count.getUint16(0, little);
    if (entries < MIN_ENTRIES) throw bad(`the IFD at byte ${ifd} has ${entries} entries, too few for a page`);
    const at = ifd + (big ? 8 : 2) + entries * (big ? 20 : 12);
    return offsetAt(await bytes.view(at, big ? 8 : 4), 0);
  };

  let pages = 0;
  // Brent: `saved` is the IFD at the last power-of-two step; meeting it again means a loop.
  let saved = -1;
  let power = 1;
  let sinceSaved = 0;
  for (let ifd = offsetAt(header, big ? 8 : 4); ifd !== 0; ifd = await next(ifd)) {
    if (ifd === saved) throw bad(`its chain of pages loops back to the IFD at byte ${ifd}`);
    if (++pages > maxPages) throw tooMany(source.name, maxPages);
    if (++sinceSaved === power) {
      saved = ifd;
      power *= 2;
      sinceSaved = 0;
    }
  }
  if (pages === 0) throw bad('no pages');
  return pages;
}

function tooMany(name: string, maxPages: number): StackError {
  return maxPages < MAX_STACK_DIM
    ? new StackError(
        'SHAPE_MISMATCH',
        `${name}: has more than the ${maxPages} pages its declared shape says`,
        name,
      )
    : new StackError(
        'UNSUPPORTED',
        `${name}: has more than ${MAX_STACK_DIM} pages, more than a stack bdv writes`,
        name,
      );
}

/** Small reads of a ByteSource served from one cached block, within a budget of bytes read. */
class BlockReader {
  private block = new Uint8Array(0);
  private blockStart = 0;
  private spent = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly budget: number,
    private readonly bad: (why: string) => StackError,
  ) {}

  /** `length` bytes at `at` (a short read past the end is a BAD_HEADER). */
  async view(at: number, length: number): Promise<DataView> {
    if (at < this.blockStart || at + length > this.blockStart + this.block.length) {
      const want = Math.min(BLOCK_BYTES, Math.max(0, this.source.size - at));
      if ((this.spent += want) > this.budget)
        throw this.bad(`its pages' IFDs are scattered so that counting them reads more than twice the file`);
      const block = new Uint8Array(want);
      const done = await readUpTo(this.source, at, block);
      this.block = block.subarray(0, done);
      this.blockStart = at;
      if (length > done) throw this.bad(`it ends inside the structure at byte ${at}`);
    }
    const offset = at - this.blockStart;
    return new DataView(this.block.buffer, this.block.byteOffset + offset, length);
  }
}
