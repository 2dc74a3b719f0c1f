import {
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StorageError } from './storage-error.js';

export interface ObjectInfo {
  key: string;
  size: number;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e.name === 'NotFound' ||
    e.name === 'NoSuchKey' ||
    e.name === 'NoSuchBucket' ||
    e.$metadata?.httpStatusCode === 404
  );
}

/** Size of an object, or a NOT_FOUND StorageError naming its URI. */
export async function headObject(client: S3Client, bucket: string, key: string): Promise<number> {
  const uri = `s3://${bucket}/${key}`;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength ?? 0;
  } catch (error) {
    if (isNotFound(error)) throw new StorageError('NOT_FOUND', `${uri}: no such object`, uri);
    throw new StorageError('FAILED', `${uri}: ${(error as Error).message}`, uri);
  }
}

/** Every object under a prefix, all pages. */
export async function listObjects(client: S3Client, bucket: string, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  try {
    for await (const page of paginateListObjectsV2(
      { client, pageSize: 1000 },
      { Bucket: bucket, Prefix: prefix },
    )) {
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
    }
  } catch (error) {
    const uri = `s3://${bucket}/${prefix}`;
    if (isNotFound(error)) throw new StorageError('NOT_FOUND', `${uri}: no such bucket`, uri);
    throw new StorageError('FAILED', `${uri}: ${(error as Error).message}`, uri);
  }
  return out;
}

/** A GET from `start` to the end as a Node stream (ranged, so reads can resume mid-object). */
export async function getObjectStream(
  client: S3Client,
  bucket: string,
  key: string,
  start: number,
): Promise<Readable> {
  const uri = `s3://${bucket}/${key}`;
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-` }));
    return r.Body as Readable;
  } catch (error) {
    if (isNotFound(error)) throw new StorageError('NOT_FOUND', `${uri}: no such object`, uri);
    throw new StorageError('TRANSIENT', `${uri}: ${(error as Error).message}`, uri);
  }
}

/**
 * Streams a body into an object with multipart upload: memory stays at partSize × queueSize
 * whatever the size (an uploaded stack is never buffered whole).
 */
export async function uploadStream(
  client: S3Client,
  bucket: string,
  key: string,
  body: Readable,
  contentType = 'application/octet-stream',
): Promise<number> {
  let bytes = 0;
  body.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
    partSize: 16 * 1024 * 1024,
    queueSize: 2,
  });
  try {
    await upload.done();
  } catch (error) {
    const uri = `s3://${bucket}/${key}`;
    throw new StorageError('FAILED', `${uri}: upload failed: ${(error as Error).message}`, uri);
  }
  return bytes;
}

export function uploadFile(
  client: S3Client,
  bucket: string,
  key: string,
  path: string,
  contentType?: string,
): Promise<number> {
  return uploadStream(client, bucket, key, createReadStream(path, { highWaterMark: 8 << 20 }), contentType);
}
