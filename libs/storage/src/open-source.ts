import type { S3Client } from '@aws-sdk/client-s3';
import { statSync } from 'node:fs';
import { FileByteSource, type ByteSource } from '@bdv-cluster/stacks';
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

export async function openSource(client: S3Client, location: SourceLocation): Promise<ByteSource> {
  if (location.kind === 's3') return S3ByteSource.open(client, location.bucket, location.key);
  return FileByteSource.open(location.path);
}
