import { FileByteSource, type ByteSource } from '@bdv-cluster/stacks';
import type { S3Settings, SourceLocation } from '@bdv-cluster/storage';

/**
 * The bytes of a task's source. Object storage is loaded only for s3 sources: a local
 * conversion never pays for loading the AWS SDK. A local file is named by its URI in every
 * message (what the client gave; `path` is the resolved server path, not the client's business).
 */
export async function openTaskSource(location: SourceLocation, s3?: S3Settings): Promise<ByteSource> {
  if (location.kind === 'file') return FileByteSource.open(location.path, location.uri);
  const { openSource } = await import('@bdv-cluster/storage');
  return openSource(location, s3);
}
