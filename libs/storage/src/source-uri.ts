import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from './storage-error.js';

export type SourceLocation =
  { kind: 's3'; uri: string; bucket: string; key: string } | { kind: 'file'; uri: string; path: string };

/** `s3://bucket/key` or `file:///path`; anything else is refused. */
export function parseSourceUri(uri: string, fileRoots: readonly string[]): SourceLocation {
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (s3) return { kind: 's3', uri, bucket: s3[1]!, key: s3[2]! };
  if (uri.startsWith('s3://')) throw new StorageError('BAD_URI', `${uri}: expected s3://bucket/key`, uri);
  if (uri.startsWith('file://')) return { kind: 'file', uri, path: allowedLocalPath(uri, fileRoots) };
  throw new StorageError('BAD_URI', `${uri}: expected an s3:// or file:// URI`, uri);
}

/**
 * The local path of a file:// URI, only if it lies inside one of the allowed roots — after
 * resolving `..` and symbolic links, so neither can reach outside.
 */
export function allowedLocalPath(uri: string, fileRoots: readonly string[]): string {
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (error) {
    throw new StorageError('BAD_URI', `${uri}: ${(error as Error).message}`, uri);
  }
  if (fileRoots.length === 0) {
    throw new StorageError(
      'FORBIDDEN_PATH',
      `${uri}: file:// sources are disabled (FILE_SOURCE_ROOTS is empty)`,
      uri,
    );
  }
  const real = realOrSelf(path);
  const inside = fileRoots.some((root) => {
    const r = relative(realOrSelf(resolve(root)), real);
    return r === '' || (!r.startsWith('..') && !isAbsolute(r));
  });
  if (!inside) {
    throw new StorageError(
      'FORBIDDEN_PATH',
      `${uri}: outside the allowed folders (${fileRoots.join(', ')})`,
      uri,
    );
  }
  return real;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
