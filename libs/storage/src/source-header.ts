import type { S3Client } from '@aws-sdk/client-s3';
import {
  FileByteSource,
  openStackSource,
  StackError,
  type ByteSource,
  type OpenStackOptions,
  type SampleType,
  type StackReader,
} from '@bdv-cluster/stacks';
import { S3ByteSource } from './s3-byte-source.js';
import type { SourceLocation } from './source-uri.js';
import { StorageError } from './storage-error.js';

export type SourceHeaderCheck =
  | { ok: true; shapeZyx: StackReader['shapeZyx']; sampleType: SampleType; size: number }
  | { ok: false; problem: string };

/**
 * Reads a source's header the way a writer will (libs/stacks' readers, ranged reads only) and
 * checks it against what was declared: raw size = headerBytes + shape × bytes per sample, the
 * .npy header's dtype/shape and its size, a TIFF's page count and first page. A refusal names
 * the source by the URI it was given and says expected vs actual; a source that is missing or a
 * store that fails throws a StorageError.
 */
export async function checkSourceHeader(
  client: S3Client,
  location: SourceLocation,
  options: OpenStackOptions,
): Promise<SourceHeaderCheck> {
  const source = await openNamed(client, location);
  try {
    const reader = await openStackSource(source, options);
    await reader.close();
    return { ok: true, shapeZyx: reader.shapeZyx, sampleType: reader.sampleType, size: source.size };
  } catch (error) {
    if (error instanceof StackError) return { ok: false, problem: error.message };
    throw error;
  }
}

/** The bytes of a source under the name the client used (never a resolved server path). */
async function openNamed(client: S3Client, location: SourceLocation): Promise<ByteSource> {
  if (location.kind === 's3') return S3ByteSource.open(client, location.bucket, location.key);
  try {
    return await FileByteSource.open(location.path, location.uri);
  } catch (error) {
    const why = error instanceof StackError ? error.message : `${location.uri}: no such file`;
    throw new StorageError('NOT_FOUND', why, location.uri);
  }
}
