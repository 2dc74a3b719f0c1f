import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from './storage-error.js';

export type SourceLocation =
  { kind: 's3'; uri: string; bucket: string; key: string } | { kind: 'file'; uri: string; path: string };

/** Where a batch lists its objects: an S3 prefix (may be empty) or a local folder. */
export type SourceFolder =
  { kind: 's3'; uri: string; bucket: string; prefix: string } | { kind: 'file'; uri: string; path: string };

/** The longest object key S3 stores (UTF-8 bytes). */
export const MAX_S3_KEY_BYTES = 1024;

/**
 * S3's bucket naming rules (3-63 of a-z 0-9 . -, a letter or digit at both ends, no `..`, `.-`
 * or `-.`, not an IP address): anything else is not a bucket, whatever a server would accept.
 */
export function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !/\.\.|\.-|-\./.test(name) &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name)
  );
}

/**
 * Why an object key (or prefix) may not be used, or undefined. A `.` or `..` segment or an empty
 * one (`//`) is refused: an HTTP layer that normalizes the path would read another object — with
 * path-style addressing even another bucket (`s3://raw/../output/x`).
 */
export function unsafeKeyReason(key: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'control characters';
  const segments = key.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'a "." or ".." segment';
  // A prefix may end in "/" (its last segment is empty); nothing else may be empty.
  if (segments.slice(0, -1).some((s) => s === '') || key === '') return 'an empty segment ("//")';
  return undefined;
}

/**
 * Bucket and key of an s3:// URI, checked: a valid bucket name, in `buckets` when that allow-list
 * is given (RAW_BUCKET + SOURCE_BUCKETS in the API), and a key without dot or empty segments.
 */
function parseS3(uri: string, buckets: readonly string[] | undefined, isPrefix: boolean) {
  const m = /^s3:\/\/([^/]*)\/(.*)$/s.exec(uri);
  const bucket = m?.[1] ?? '';
  const key = m?.[2] ?? '';
  if (!m || (!isPrefix && key === '')) {
    throw new StorageError('BAD_URI', `${uri}: expected s3://bucket/${isPrefix ? 'prefix/' : 'key'}`, uri);
  }
  if (!isBucketName(bucket)) {
    throw new StorageError('BAD_URI', `${uri}: "${bucket}" is not a valid bucket name`, uri);
  }
  if (buckets && !buckets.includes(bucket)) {
    throw new StorageError(
      'FORBIDDEN_PATH',
      `${uri}: bucket ${bucket} is not a source bucket (allowed: ${buckets.join(', ')}; see RAW_BUCKET, SOURCE_BUCKETS)`,
      uri,
    );
  }
  const unsafe = key === '' ? undefined : unsafeKeyReason(key);
  if (unsafe) throw new StorageError('BAD_URI', `${uri}: the key has ${unsafe}`, uri);
  // S3 answers a longer key with an error the SDK cannot name (a 503 "UnknownError" here, which a
  // client would retry for ever): it is the client's to fix.
  const keyBytes = Buffer.byteLength(key);
  if (keyBytes > MAX_S3_KEY_BYTES) {
    throw new StorageError(
      'BAD_URI',
      `${uri.slice(0, 80)}…: the key is ${keyBytes} bytes, S3 keys are at most ${MAX_S3_KEY_BYTES}`,
      uri,
    );
  }
  return { bucket, key };
}

/**
 * `s3://bucket/key` or `file:///path`; anything else is refused. `buckets`: the allowed source
 * buckets (deny by default where given; the API always gives it).
 */
export function parseSourceUri(
  uri: string,
  fileRoots: readonly string[],
  buckets?: readonly string[],
): SourceLocation {
  if (uri.startsWith('s3://')) return { kind: 's3', uri, ...parseS3(uri, buckets, false) };
  if (uri.startsWith('file://')) return { kind: 'file', uri, path: allowedLocalPath(uri, fileRoots) };
  throw new StorageError('BAD_URI', `${uri}: expected an s3:// or file:// URI`, uri);
}

/** A batch source: `s3://bucket/prefix/` or `file:///folder/`, with the same checks as a source. */
export function parseSourceFolder(
  uri: string,
  fileRoots: readonly string[],
  buckets?: readonly string[],
): SourceFolder {
  if (uri.startsWith('s3://')) {
    const { bucket, key } = parseS3(uri, buckets, true);
    return { kind: 's3', uri, bucket, prefix: key };
  }
  if (uri.startsWith('file://')) return { kind: 'file', uri, path: allowedLocalPath(uri, fileRoots) };
  throw new StorageError('BAD_URI', `${uri}: expected an s3:// or file:// URI`, uri);
}

/**
 * The local path of a file:// URI, only if it lies inside one of the allowed roots — after
 * resolving `..` and symbolic links, so neither can reach outside. A path that does not exist is
 * judged by where it would be (see `realPathOf`): a missing file behind a link that leaves the
 * roots is outside them as an existing one is, so the answer never tells whether a path outside
 * exists. Messages never name the roots (server paths are not the client's business). The path
 * returned is the resolved one — what was checked is what is opened — and is never the client's:
 * name the source by its URI in anything a client may read (FileByteSource.open's `name`).
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
  const real = realPathOf(path);
  const inside = (root: string) => {
    const realRoot = realPathOf(root);
    if (real === undefined || realRoot === undefined) return false;
    const r = relative(realRoot, real);
    return r === '' || (!r.startsWith('..') && !isAbsolute(r));
  };
  if (real === undefined || !fileRoots.some(inside)) {
    throw new StorageError('FORBIDDEN_PATH', `${uri}: outside the allowed folders (FILE_SOURCE_ROOTS)`, uri);
  }
  return real;
}

/** Symbolic links followed while resolving one path before giving up (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * The real path of `path` (made absolute) whether or not it exists: where the system would look
 * for it. Every existing component is resolved — a symbolic link is followed even when what it
 * points to is missing (a dangling link) — and the part from the first missing component on is
 * appended as given. So a missing path behind a link that leaves a folder is outside that folder,
 * as an existing one would be. undefined when links loop (or nest deeper than MAX_LINKS).
 */
export function realPathOf(path: string): string | undefined {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    // missing, a dangling link, a loop, or unreadable: resolved one component at a time
  }
  const { root } = parse(absolute);
  let done = root; // resolved: no links in it, so ".." is its parent
  const todo = absolute.slice(root.length).split(sep);
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      done = dirname(done);
      continue;
    }
    const next = join(done, name);
    let isLink: boolean;
    try {
      isLink = lstatSync(next).isSymbolicLink();
    } catch {
      return join(next, ...todo); // missing (or unreadable): the rest as given
    }
    if (!isLink) {
      done = next;
      continue;
    }
    if (++links > MAX_LINKS) return undefined;
    let target: string;
    try {
      target = readlinkSync(next);
    } catch {
      return join(next, ...todo);
    }
    todo.unshift(...target.split(sep));
    if (isAbsolute(target)) done = parse(target).root;
  }
  return done;
}
