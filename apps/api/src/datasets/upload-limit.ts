import { MAX_STACK_VOXELS } from '@bdv-cluster/bdv/vocabulary';
import type { SourceOptions } from '@bdv-cluster/contract';
import { MAX_NPY_HEADER_BYTES, readNpyHeader, StackError, type ByteSource } from '@bdv-cluster/stacks';
import { HttpStatus } from '@nestjs/common';
import { Transform, type TransformCallback } from 'node:stream';
import { ApiError } from '../common/api-error.js';

/** What an uncompressed TIFF page may carry besides its samples (its IFD, tags, strip offsets). */
const TIFF_PAGE_BYTES = 64 * 1024;
/** Room for what a TIFF writer adds once (a header, ImageJ's metadata). */
const TIFF_FILE_BYTES = 1024 * 1024;

/**
 * The most bytes an upload may hold, before any is stored: a raw body is exactly its header and
 * samples; a TIFF with a declared shape its samples plus a page's worth of structure per page;
 * a TIFF without one the largest stack there is. A .npy body is bounded by its own header, read
 * from its first bytes as they arrive (`undefined` here).
 */
export function declaredUploadBound(source: SourceOptions): number | undefined {
  const bytesPerSample = source.dtype === 'uint8' ? 1 : 2;
  const shape = source.shapeZyx;
  const samples = shape ? shape[0] * shape[1] * shape[2] : MAX_STACK_VOXELS;
  if (source.format === 'npy') return undefined;
  if (source.format === 'raw') return (source.headerBytes ?? 0) + samples * bytesPerSample;
  return samples * bytesPerSample + (shape ? shape[0] : 1) * TIFF_PAGE_BYTES + TIFF_FILE_BYTES;
}

/**
 * Passes an upload's bytes on until they pass its bound, then fails the stream with `refusal`
 * (413, or 400 for a .npy header that is not one): the store gets no byte past the bound, and the
 * caller deletes what it got. A raw or TIFF body is bounded as declared; a .npy body by the
 * header in its first bytes (at most MAX_NPY_HEADER_BYTES are held to read it).
 */
export class UploadLimit extends Transform {
  refusal?: ApiError;
  private seen = 0;
  private head: Buffer[] = [];
  private headBytes = 0;
  private why = 'its declared format and shape allow';

  constructor(private bound: number | undefined) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.accept(chunk).then(
      (refusal) => {
        this.refusal = refusal;
        done(refusal ?? null, refusal ? undefined : chunk);
      },
      (error: Error) => done(error),
    );
  }

  private async accept(chunk: Buffer): Promise<ApiError | undefined> {
    this.seen += chunk.length;
    if (this.bound === undefined) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const bound = await this.npyBound();
      if (bound instanceof ApiError) return bound;
      if (bound === undefined) return undefined;
      this.bound = bound;
      this.head = [];
    }
    if (this.seen <= this.bound) return undefined;
    return new ApiError(HttpStatus.PAYLOAD_TOO_LARGE, `body: more than the ${this.bound} bytes ${this.why}`);
  }

  /** The .npy's whole size once its header has arrived; undefined until then. */
  private async npyBound(): Promise<number | ApiError | undefined> {
    if (this.headBytes < 12) return undefined;
    const head = Buffer.concat(this.head);
    this.head = [head];
    const version = head[6];
    const headerBytes = version === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
    // Held until the header is whole, unless it claims more than is ever read (refused below).
    if (headerBytes <= MAX_NPY_HEADER_BYTES && head.length < (version === 1 ? 10 : 12) + headerBytes)
      return undefined;
    try {
      const header = await readNpyHeader(memorySource(head));
      const itemBytes = Number(/(\d+)$/.exec(header.descr)?.[1] ?? 2);
      this.why = `its .npy header (shape ${header.shape.join('x')}, '${header.descr}') says it holds`;
      return header.dataOffset + header.shape.reduce((a, b) => a * b, 1) * itemBytes;
    } catch (error) {
      if (!(error instanceof StackError)) throw error;
      return ApiError.badRequest(`body: ${error.message}`, [{ field: 'body', message: error.message }]);
    }
  }
}

/** Bytes in memory as a ByteSource (the start of an upload). */
function memorySource(bytes: Buffer): ByteSource {
  return {
    name: 'the upload',
    size: bytes.length,
    read: (position, target) => {
      const n = Math.max(0, Math.min(target.length, bytes.length - position));
      target.set(bytes.subarray(position, position + n));
      return Promise.resolve(n);
    },
    close: () => Promise.resolve(),
  };
}
