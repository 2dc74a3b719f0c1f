import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { EXPORT_CLAIM } from './export-claim.js';
import { createS3Client, type S3Settings } from './s3-config.js';

/**
 * Takes back an export this finalize made under `prefix` of `bucket`: the XML first (an export
 * with its XML is complete to readers, and holds the name against new datasets), then the other
 * files, then the claim last, so that the prefix is never someone else's to take while half of
 * it is still ours. `keys` are the export's objects, XML first; deleting one never uploaded is a
 * no-op. Only for an export the finalize itself claimed: a copy exported by an earlier finalize
 * of the dataset is kept, as a cancel keeps every exported copy.
 */
export async function undoExport(s3: S3Settings, bucket: string, prefix: string, keys: readonly string[]) {
  const client = createS3Client(s3);
  try {
    for (const Key of [...keys, `${prefix}${EXPORT_CLAIM}`])
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  } finally {
    client.destroy();
  }
}
