import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StorageError } from './storage-error.js';

/** The object under an export prefix that names whose export it is (its body: the owner's id). */
export const EXPORT_CLAIM = '.bdv-export';

/**
 * Makes `prefix` of `bucket` the export of `owner` (a dataset id) before anything is uploaded
 * there, so that an export never overwrites objects somebody else put under the same name: a
 * purged dataset's kept copy, another cluster's, a person's. A prefix claimed by `owner` is
 * exported to again (a dataset finalized anew); an empty one is claimed; one claimed by another
 * owner, or holding objects nobody claimed, is a CONFLICT — unless `adoptUnclaimed` says the owner
 * exported there before claims existed (its record names that export), which is then claimed.
 */
export async function claimExportPrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
  owner: string,
  adoptUnclaimed = false,
): Promise<void> {
  const uri = `s3://${bucket}/${prefix}`;
  const claimKey = `${prefix}${EXPORT_CLAIM}`;
  const holder = await readClaim(client, bucket, claimKey);
  if (holder === owner) return;
  if (holder !== undefined)
    throw new StorageError(
      'CONFLICT',
      `${uri} holds the export of another dataset (${holder.slice(0, 64)}): not overwritten; remove it from the bucket or use another dataset name`,
      uri,
    );
  const present = await firstKey(client, bucket, prefix, uri);
  if (present !== undefined && !adoptUnclaimed)
    throw new StorageError(
      'CONFLICT',
      `${uri} already holds ${present.slice(prefix.length)}, which no dataset of this cluster exported: not overwritten; remove it from the bucket or use another dataset name`,
      uri,
    );
  try {
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: claimKey, Body: owner, ContentType: 'text/plain' }),
    );
  } catch (error) {
    throw new StorageError(
      'TRANSIENT',
      `${uri}: could not claim the export: ${(error as Error).message}`,
      uri,
    );
  }
}

async function readClaim(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return ((await r.Body?.transformToString()) ?? '').trim();
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404)
      return undefined;
    const uri = `s3://${bucket}/${key}`;
    throw new StorageError('TRANSIENT', `${uri}: ${(error as Error).message}`, uri);
  }
}

async function firstKey(
  client: S3Client,
  bucket: string,
  prefix: string,
  uri: string,
): Promise<string | undefined> {
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
    return page.Contents?.[0]?.Key;
  } catch (error) {
    throw new StorageError('TRANSIENT', `${uri}: ${(error as Error).message}`, uri);
  }
}
