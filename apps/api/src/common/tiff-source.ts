import type { S3Client } from '@aws-sdk/client-s3';
import type { SourceSpec } from '@bdv-cluster/contract';
import { FileByteSource, formatOf, readExactly, type ByteSource } from '@bdv-cluster/stacks';
import { S3ByteSource, type SourceLocation } from '@bdv-cluster/storage';
import { tiffReadAsNpy } from './tiff-hint.js';

/**
 * A source read as .npy that is a TIFF (by its bytes or its name) said as such, rather than as a
 * .npy without its magic; undefined for any other refusal.
 */
export async function tiffProblem(
  s3: S3Client,
  location: SourceLocation,
  source: SourceSpec,
): Promise<string | undefined> {
  if (formatOfName(source) !== 'npy') return undefined;
  const head = await headOf(s3, location, NPY_MAGIC.length);
  if (!head || NPY_MAGIC.every((b, i) => head[i] === b)) return undefined;
  const hint = tiffReadAsNpy(head, source.uri, 'declare its format "tiff"');
  return hint && `${source.uri}: ${hint}`;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The format a source is read as: declared, else from its name (undefined: the name does not say). */
function formatOfName(source: SourceSpec): string | undefined {
  try {
    return formatOf(source.uri, source.format);
  } catch {
    return undefined;
  }
}

/** A source's first `n` bytes (fewer if it is shorter), or undefined when it cannot be read. */
async function headOf(s3: S3Client, location: SourceLocation, n: number): Promise<Uint8Array | undefined> {
  let bytes: ByteSource | undefined;
  try {
    bytes =
      location.kind === 's3'
        ? await S3ByteSource.open(s3, location.bucket, location.key)
        : await FileByteSource.open(location.path, location.uri);
    const head = new Uint8Array(Math.min(n, bytes.size));
    await readExactly(bytes, 0, head);
    return head;
  } catch {
    return undefined; // the refusal already said what it could
  } finally {
    await bytes?.close();
  }
}
