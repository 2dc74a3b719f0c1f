import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { HttpStatus, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../common/api-error.js';
import { hasBody, mediaTypeOf } from '../common/body-types.js';

const log = new Logger('upload');

/**
 * Where one upload's bytes go: a key of its own (`uploads/<dataset>/<view>-<uuid>.<ext>`), recorded
 * in the view that claims it. Concurrent uploads of one view never share an object, so the
 * upload that wins the view is the one whose bytes are converted.
 */
export function uploadKeyOf(datasetId: string, viewKey: string, format: string): string {
  return `uploads/${datasetId}/${viewKey}-${randomUUID()}.${format === 'tiff' ? 'tif' : format}`;
}

/**
 * 415 unless the body is application/octet-stream sent as it is (no Content-Encoding but
 * identity); 400 when it is announced empty.
 */
export function assertStackBody(req: Request): void {
  const type = mediaTypeOf(req);
  if (type !== 'application/octet-stream') {
    throw ApiError.refuse(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `Content-Type ${type || '(none)'} is not accepted: the body of PUT .../data is the stack's bytes (application/octet-stream)`,
      'Content-Type',
    );
  }
  const encoding = contentEncodingOf(req);
  if (encoding) {
    throw ApiError.refuse(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `Content-Encoding ${encoding} is not taken for uploads; send the bytes as they are`,
      'Content-Encoding',
    );
  }
  if (!hasBody(req)) throw ApiError.badRequest('body: empty (the stack bytes are the body)', 'body');
}

/**
 * The Content-Encoding of a request other than identity (as sent, at most 100 characters), or
 * undefined. Uploads are stored byte for byte and read as the stack they claim to be: a gzipped
 * .npy was checked as if it were one ("missing \x93NUMPY magic"), and decoding it here would
 * take a compression bomb past the upload's size bounds.
 */
function contentEncodingOf(req: Request): string | undefined {
  const header = req.headers['content-encoding'];
  if (header === undefined) return undefined;
  const codings = header.split(',').map((c) => c.trim().toLowerCase());
  return codings.every((c) => c === 'identity' || c === '') ? undefined : header.slice(0, 100);
}

/**
 * Deletes an upload that will not be converted (refused, lost the race, or failed half-way);
 * a failure here only leaves an orphan under uploads/, so it is logged, not thrown.
 */
export async function discardUpload(s3: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    log.warn(`could not delete s3://${bucket}/${key}: ${(error as Error).message}`);
  }
}
