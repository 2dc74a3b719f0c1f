import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound } from './s3-objects.js';
import { StorageError } from './storage-error.js';

/** The object under an export prefix that names whose export it is (its body: the owner's id). */
export const EXPORT_CLAIM = '.bdv-export';

/** What the finalizer's credentials must allow on OUTPUT_BUCKET, named when the store refuses. */
/** Delete: to take back the export of a dataset cancelled, or lost from Redis, while exported. */
export const EXPORT_PERMISSIONS = 's3:GetObject, s3:ListBucket, s3:PutObject and s3:DeleteObject';

export interface ExportClaim {
  /** Who exports (a dataset id). */
  owner: string;
  /** The object an export uploads last: another owner's claim without it never completed. */
  completeKey: string;
  /** The owner exported to this prefix before claims existed (its record says so). */
  adoptUnclaimed?: boolean;
}

/**
 * Makes `prefix` of `bucket` the export of `claim.owner` before anything is uploaded there, so
 * that an export never overwrites objects somebody else put under the same name: a purged
 * dataset's kept copy, another cluster's, a person's. A prefix claimed by the owner is exported to
 * again (a dataset finalized anew); an empty one is claimed; so is one whose claim is another's
 * export that never completed (no `completeKey`: it failed, or its dataset was cancelled
 * mid-export). One holding another's complete export, or objects nobody claimed, is a CONFLICT —
 * unless `adoptUnclaimed`. A store that refuses the reads is DENIED, naming the permissions.
 */
export async function claimExportPrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
  claim: ExportClaim,
): Promise<void> {
  const claimKey = `${prefix}${EXPORT_CLAIM}`;
  const holder = await readClaim(client, bucket, claimKey);
  if (holder === claim.owner) return;
  const problem = await takenBy(client, bucket, prefix, holder, claim);
  if (problem) throw new StorageError('CONFLICT', problem, `s3://${bucket}/${prefix}`);
  await s3Call(`s3://${bucket}/${claimKey}`, 'claim the export', () =>
    client.send(
      new PutObjectCommand({ Bucket: bucket, Key: claimKey, Body: claim.owner, ContentType: 'text/plain' }),
    ),
  );
}

/**
 * Why a new owner could not export to `prefix` now (the check a registration makes, so that a name
 * whose export is somebody else's is refused before any view is converted), or undefined.
 */
export async function exportPrefixProblem(
  client: S3Client,
  bucket: string,
  prefix: string,
  completeKey: string,
): Promise<string | undefined> {
  const holder = await readClaim(client, bucket, `${prefix}${EXPORT_CLAIM}`);
  return takenBy(client, bucket, prefix, holder, { owner: '', completeKey });
}

/** Whose `prefix` is, for an owner who does not hold its claim: a message, or undefined if free. */
async function takenBy(
  client: S3Client,
  bucket: string,
  prefix: string,
  holder: string | undefined,
  claim: ExportClaim,
): Promise<string | undefined> {
  const uri = `s3://${bucket}/${prefix}`;
  if (holder !== undefined) {
    if (!(await exists(client, bucket, claim.completeKey))) return undefined;
    return `${uri} holds the export of another dataset (${holder.slice(0, 64)}): not overwritten; remove it from the bucket or use another dataset name`;
  }
  const present = await firstKey(client, bucket, prefix);
  if (present === undefined || claim.adoptUnclaimed) return undefined;
  return `${uri} already holds ${present.slice(prefix.length)}, which no dataset of this cluster exported: not overwritten; remove it from the bucket or use another dataset name`;
}

async function readClaim(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  // Only a missing key is "no claim": a missing bucket is an error, not a free prefix.
  const r = await s3Call(
    `s3://${bucket}/${key}`,
    'read the export claim',
    () => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    (error) => (error as { name?: string }).name === 'NoSuchKey',
  );
  return r && ((await r.Body?.transformToString()) ?? '').trim();
}

async function exists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  // Asked only after the claim was read from the same bucket: a 404 here is the key's.
  const r = await s3Call(
    `s3://${bucket}/${key}`,
    'look for the export',
    () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    isNotFound,
  );
  return r !== undefined;
}

async function firstKey(client: S3Client, bucket: string, prefix: string): Promise<string | undefined> {
  const page = await s3Call(`s3://${bucket}/${prefix}`, 'list the export', () =>
    client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 })),
  );
  return page?.Contents?.[0]?.Key;
}

/**
 * One request: undefined where `absent(error)` says what was asked for is not there (reads only;
 * a write or a listing that meets a 404 fails), DENIED for a refusal, TRANSIENT otherwise.
 */
async function s3Call<T>(
  uri: string,
  what: string,
  call: () => Promise<T>,
  absent: (error: unknown) => boolean = () => false,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (absent(error)) return undefined;
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403)
      throw new StorageError(
        'DENIED',
        `${uri}: access denied, could not ${what} (the finalizer's credentials need ${EXPORT_PERMISSIONS} on the output bucket)`,
        uri,
      );
    throw new StorageError('TRANSIENT', `${uri}: could not ${what}: ${(error as Error).message}`, uri);
  }
}
