import type { S3Client } from '@aws-sdk/client-s3';
import { allowedLocalPath, listObjects } from '@bdv-cluster/storage';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ListedObject {
  /** Name relative to the batch source: what the pattern is matched against. */
  name: string;
  uri: string;
}

/** Every object under an s3:// prefix (all pages) or file:// folder (recursively, allowed roots only). */
export async function listBatchSource(
  s3: S3Client,
  source: string,
  fileRoots: readonly string[],
): Promise<ListedObject[]> {
  const s3Match = /^s3:\/\/([^/]+)\/(.*)$/.exec(source);
  if (s3Match) {
    const [, bucket, prefix] = s3Match as unknown as [string, string, string];
    return (await listObjects(s3, bucket, prefix)).map((o) => ({
      name: o.key.slice(prefix.length),
      uri: `s3://${bucket}/${o.key}`,
    }));
  }
  const folder = allowedLocalPath(source, fileRoots);
  const out: ListedObject[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() || statSync(path).isFile())
        out.push({ name: relative(folder, path), uri: pathToFileURL(path).href });
    }
  };
  walk(folder);
  return out;
}
