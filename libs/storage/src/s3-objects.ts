import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pRetry from 'p-retry';
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { StorageError } from './storage-error.js';

export interface ObjectInfo {
  key: string;
  size: number;
}

/** A 404 of any kind: no such key, object or bucket. */
export function isNotFound(error: unknown): boolean {
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
  return (await objectVersion(client, bucket, key)).size;
}

/** An object's size and ETag (which names its bytes: a new PUT to the key changes it). */
export async function objectVersion(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ size: number; etag?: string }> {
  const uri = `s3://${bucket}/${key}`;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: head.ContentLength ?? 0, etag: head.ETag };
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

/**
 * A GET from `start` to the end as a Node stream (ranged, so reads can resume mid-object). With
 * `etag`, only of that version of the object: a key written again since (a re-upload while it is
 * read) is CHANGED. Compared here, not asked of the server with If-Match: S3-protocol servers
 * differ in how they match it (quoted or not, weak tags, 412 for a match, 501), and each GET
 * answers with the ETag of the bytes it streams anyway.
 */
export async function getObjectStream(
  client: S3Client,
  bucket: string,
  key: string,
  start: number,
  etag?: string,
): Promise<Readable> {
  const uri = `s3://${bucket}/${key}`;
  let r;
  try {
    r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-` }));
  } catch (error) {
    if (isNotFound(error)) throw new StorageError('NOT_FOUND', `${uri}: no such object`, uri);
    throw new StorageError('TRANSIENT', `${uri}: ${(error as Error).message}`, uri);
  }
  if (etag !== undefined && r.ETag !== undefined && !sameEtag(r.ETag, etag)) {
    (r.Body as Readable).destroy();
    throw new StorageError(
      'CHANGED',
      `${uri}: was written again while it was being read (its ETag changed); give it again once it is complete`,
      uri,
    );
  }
  return r.Body as Readable;
}

/** ETags as servers send them, quoted or not, weak (`W/`) or not: equal when their values are. */
export function sameEtag(a: string, b: string): boolean {
  const value = (tag: string) =>
    tag
      .trim()
      .replace(/^W\//i, '')
      .replace(/^"(.*)"$/, '$1');
  return value(a) === value(b);
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

/**
 * Files up to this size go up in one PUT, streamed from disk: one request, and no server-side
 * join of parts (the local S3 server rewrites the whole object to join them: the export of 1 GB
 * of partitions took 13–17 s as parts, 7 s as single PUTs). Larger files (S3 refuses single PUTs
 * above 5 GiB) go as parts, so a failure costs one part, not the file.
 */
export const SINGLE_PUT_MAX_BYTES = 1024 * 1024 * 1024;

/** Tries of one single PUT: the SDK cannot retry a stream body it has consumed, so we do. */
const PUT_ATTEMPTS = 4;

/** Copies a local file into an object (one streamed PUT, or parts above `singlePutMaxBytes`). */
export async function uploadFile(
  client: S3Client,
  bucket: string,
  key: string,
  path: string,
  contentType?: string,
  singlePutMaxBytes = SINGLE_PUT_MAX_BYTES,
): Promise<number> {
  const size = statSync(path).size;
  if (size > singlePutMaxBytes) {
    const body = createReadStream(path, { highWaterMark: 8 << 20 });
    try {
      return await uploadStream(client, bucket, key, body, contentType);
    } finally {
      body.destroy();
    }
  }
  const uri = `s3://${bucket}/${key}`;
  await pRetry(() => putFileOnce(client, { bucket, key, path, size, contentType }), {
    retries: PUT_ATTEMPTS - 1,
    minTimeout: 500,
    factor: 3,
    shouldRetry: ({ error }: { error: Error }) =>
      !(error instanceof StorageError && error.code === 'NOT_FOUND'),
  }).catch((error: unknown) => {
    if (error instanceof StorageError) throw error;
    throw new StorageError('FAILED', `${uri}: upload failed: ${(error as Error).message}`, uri);
  });
  return size;
}

/**
 * One PUT of a file, read afresh, with the MD5 of the bytes sent compared to the ETag the store
 * returns (a single PUT's ETag is its MD5 on S3, MinIO and s3rver): the streamed body is not
 * signed, so this is what catches bytes changed on the way. An ETag that is not a plain MD5 (an
 * encrypting store's) is not compared.
 */
async function putFileOnce(
  client: S3Client,
  file: { bucket: string; key: string; path: string; size: number; contentType?: string | undefined },
): Promise<void> {
  const uri = `s3://${file.bucket}/${file.key}`;
  const source = createReadStream(file.path, { highWaterMark: 8 << 20 });
  const md5 = createHash('md5');
  // Hashed as the SDK reads it (a 'data' listener would start the flow before the SDK listens).
  const body = source.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        done(null, chunk);
      },
    }),
  );
  source.on('error', (error) => body.destroy(error));
  try {
    const put = await client.send(
      new PutObjectCommand({
        Bucket: file.bucket,
        Key: file.key,
        Body: body,
        ContentLength: file.size,
        ContentType: file.contentType ?? 'application/octet-stream',
      }),
    );
    const etag = (put.ETag ?? '').replace(/"/g, '').toLowerCase();
    const sent = md5.digest('hex');
    if (/^[0-9a-f]{32}$/.test(etag) && etag !== sent)
      throw new StorageError(
        'TRANSIENT',
        `${uri}: stored bytes differ from the file (ETag ${etag}, sent ${sent})`,
        uri,
      );
  } catch (error) {
    if (error instanceof StorageError) throw error;
    if (isNotFound(error)) throw new StorageError('NOT_FOUND', `${uri}: no such bucket`, uri);
    throw new StorageError('TRANSIENT', `${uri}: upload failed: ${(error as Error).message}`, uri);
  } finally {
    source.destroy();
    body.destroy();
  }
}
