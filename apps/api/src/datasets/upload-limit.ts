import { MAX_STACK_VOXELS } from '@bdv-cluster/bdv/vocabulary';
import { readOptionsOf, type SourceSpec } from '@bdv-cluster/contract';
import {
  checkNpyHeader,
  MAX_NPY_HEADER_BYTES,
  readNpyHeader,
  StackError,
  type ByteSource,
} from '@bdv-cluster/stacks';
import { HttpStatus } from '@nestjs/common';
import type { Request } from 'express';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ApiError } from '../common/api-error.js';
import { tiffReadAsNpy } from '../common/tiff-hint.js';

/** Room for what a TIFF writer adds once (a header, ImageJ's metadata). */
const TIFF_FILE_BYTES = 1024 * 1024;
/** A page's IFD and tags, besides its strip table. */
const TIFF_PAGE_BYTES = 64 * 1024;
/** A strip table entry of a BigTIFF (offset + count), one strip per row at most. */
const TIFF_STRIP_ENTRY_BYTES = 16;

/**
 * The most bytes an upload may hold, known before any is stored: a raw body exactly its header
 * and samples; a TIFF with a declared shape its samples plus, per page, its IFD and a strip table
 * of one strip per row; a TIFF without one the largest stack there is (nothing smaller can be
 * known before its pages are). A .npy body is bounded by its own header, read from its first
 * bytes as they arrive (`undefined` here).
 */
export function declaredUploadBound(source: SourceSpec): number | undefined {
  if (source.format === 'npy') return undefined;
  const bytesPerSample = source.dtype === 'uint8' ? 1 : 2;
  const shape = source.shapeZyx;
  if (source.format === 'raw')
    return (source.headerBytes ?? 0) + (shape ? shape[0] * shape[1] * shape[2] : 0) * bytesPerSample;
  if (!shape) return MAX_STACK_VOXELS * bytesPerSample + TIFF_FILE_BYTES;
  const [nz, ny, nx] = shape;
  return nz * (ny * nx * bytesPerSample + ny * TIFF_STRIP_ENTRY_BYTES + TIFF_PAGE_BYTES) + TIFF_FILE_BYTES;
}

/**
 * The exact bytes a raw upload's declaration says it holds, or undefined: a .npy or a TIFF tells
 * its size only in its bytes (a compressed TIFF may be far smaller than its samples). Past the
 * operator's UPLOAD_MAX_BYTES it is refused before a byte is read.
 */
export function declaredUploadMinimum(source: SourceSpec): number | undefined {
  return source.format === 'raw' ? declaredUploadBound(source) : undefined;
}

/** How an upload says it is a TIFF (read as .npy otherwise). */
const UPLOAD_TIFF_HOW = 'upload it with ?format=tiff (without ?format an upload is read as .npy)';

/** Why an upload past the operator's bound is refused, and what to do instead. */
const PAST_OPERATOR_BOUND = (max: number) =>
  `UPLOAD_MAX_BYTES (${max}) allows an upload to hold; give a larger stack as an s3:// or file:// source`;

/**
 * Passes an upload's bytes on until they pass its bound, then fails with `refusal` (413, or 400
 * for a .npy header that is not one bdv converts): the store gets no byte past the bound. A raw
 * or TIFF body is bounded as declared; a .npy body by its header, checked as a writer will check
 * it (dtype, shape caps, what was declared) before more than MAX_NPY_HEADER_BYTES are held. None
 * passes `maxBytes` (the operator's UPLOAD_MAX_BYTES): a TIFF without a declared shape is
 * otherwise bounded only by the largest stack there is (2 TiB).
 */
export class UploadLimit extends Transform {
  refusal?: ApiError;
  private seen = 0;
  private bound: number | undefined;
  /** The .npy's first bytes, until its header is whole: `needed` of them. */
  private head: Buffer[] = [];
  private headBytes = 0;
  private needed = 12;
  private why = 'its declared format and shape allow';

  constructor(
    private readonly source: SourceSpec,
    private readonly maxBytes = Number.MAX_SAFE_INTEGER,
  ) {
    super();
    const declared = declaredUploadBound(source);
    this.bound = declared === undefined ? undefined : this.capped(declared);
  }

  /**
   * The refusal an upload gets before any of its body is read, where its declaration alone
   * passes the operator's bound (the client then sends nothing more in vain).
   */
  static refusedUpFront(source: SourceSpec, maxBytes: number): ApiError | undefined {
    const least = declaredUploadMinimum(source);
    if (least === undefined || least <= maxBytes) return undefined;
    return ApiError.refuse(
      HttpStatus.PAYLOAD_TOO_LARGE,
      `body: its declared format and shape need ${least} bytes, more than ${PAST_OPERATOR_BOUND(maxBytes)}`,
      'body',
    );
  }

  /** `bound`, or the operator's where it is lower (and then said as the reason). */
  private capped(bound: number): number {
    if (bound <= this.maxBytes) return bound;
    this.why = PAST_OPERATOR_BOUND(this.maxBytes);
    return this.maxBytes;
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
      // Joined only when enough has come (not once a chunk: a header sent a byte at a time).
      if (this.headBytes < this.needed) return undefined;
      const bound = await this.npyBound(Buffer.concat(this.head));
      if (bound instanceof ApiError) return bound;
      if (bound === undefined) return undefined;
      this.bound = this.capped(bound);
      this.head = [];
    }
    if (this.seen <= this.bound) return undefined;
    return ApiError.refuse(
      HttpStatus.PAYLOAD_TOO_LARGE,
      `body: more than the ${this.bound} bytes ${this.why}`,
      'body',
    );
  }

  /** The .npy's whole size once its header is whole (undefined until then), or its refusal. */
  private async npyBound(head: Buffer): Promise<number | ApiError | undefined> {
    this.head = [head];
    const tiff = tiffReadAsNpy(head, undefined, UPLOAD_TIFF_HOW);
    if (tiff) return ApiError.badRequest(`body: the upload is ${tiff}`, [{ field: 'body', message: tiff }]);
    const version = head[6];
    const headerBytes = version === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
    // A header claiming more than is ever read is refused by readNpyHeader now, not awaited.
    const needed = (version === 1 ? 10 : 12) + Math.min(headerBytes, MAX_NPY_HEADER_BYTES);
    if (headerBytes <= MAX_NPY_HEADER_BYTES && head.length < needed) {
      this.needed = needed;
      return undefined;
    }
    try {
      const name = 'the upload';
      const npy = checkNpyHeader(
        name,
        await readNpyHeader(memorySource(name, head)),
        readOptionsOf(this.source),
      );
      this.why = `its .npy header (${npy.shapeZyx.join('x')} ${npy.sampleType}) says it holds`;
      return npy.bytes;
    } catch (error) {
      if (!(error instanceof StackError)) throw error;
      return ApiError.badRequest(`body: ${error.message}`, [{ field: 'body', message: error.message }]);
    }
  }
}

/**
 * The request's body through `limit`. A client that goes away mid-body fails the limited stream
 * too (`pipe` passes on no error: the store's upload would wait for it for ever, its parts held).
 */
export function limitedBody(req: Request, limit: UploadLimit): Readable {
  req.once('error', (error) => limit.destroy(error));
  req.once('close', () => {
    if (!req.complete && !limit.destroyed) limit.destroy(new Error('the client went away mid-body'));
  });
  return req.pipe(limit);
}

/** Bytes in memory as a ByteSource (the start of an upload). */
function memorySource(name: string, bytes: Buffer): ByteSource {
  return {
    name,
    size: bytes.length,
    read: (position, target) => {
      const n = Math.max(0, Math.min(target.length, bytes.length - position));
      target.set(bytes.subarray(position, position + n));
      return Promise.resolve(n);
    },
    close: () => Promise.resolve(),
  };
}
