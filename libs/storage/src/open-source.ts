import type { S3Client } from '@aws-sdk/client-s3';
import { statSync } from 'node:fs';
import { FileByteSource, type ByteSource } from '@bdv-cluster/stacks';
import { createS3Client, type S3Settings } from './s3-config.js';
import { headObject } from './s3-objects.js';
import { S3ByteSource } from './s3-byte-source.js';
import type { SourceLocation } from './source-uri.js';
import { StorageError } from './storage-error.js';

/** Bytes of a source, or NOT_FOUND — the API's check before it queues a view. */
export async function sourceSize(client: S3Client, location: SourceLocation): Promise<number> {
  if (location.kind === 's3') return headObject(client, location.bucket, location.key);
  try {
    const stat = statSync(location.path);
    if (!stat.isFile()) throw new Error('not a file');
    return stat.size;
  } catch {
    throw new StorageError('NOT_FOUND', `${location.uri}: no such file`, location.uri);
  }
}

/**
 * The bytes of a source; an S3 object gets a client of its own, destroyed when it is closed. A
 * local file is named by its URI in every message (never by the resolved server path it is read at).
 */
export async function openSource(location: SourceLocation, s3?: S3Settings): Promise<ByteSource> {
  if (location.kind === 'file') return FileByteSource.open(location.path, location.uri);
  if (!s3) throw new StorageError('FAILED', `${location.uri}: no object storage is configured`, location.uri);
  return S3ByteSource.open(createS3Client(s3), location.bucket, location.key, { ownsClient: true });
}
