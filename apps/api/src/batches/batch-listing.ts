import type { S3Client } from '@aws-sdk/client-s3';
import { listObjects, StorageError, type SourceFolder } from '@bdv-cluster/storage';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ListedObject {
  /** Name relative to the batch source: what the pattern is matched against. */
  name: string;
  uri: string;
}

/** Every object under an s3:// prefix (all pages) or file:// folder (recursively). */
export async function listBatchSource(s3: S3Client, folder: SourceFolder): Promise<ListedObject[]> {
  if (folder.kind === 's3') {
    return (await listObjects(s3, folder.bucket, folder.prefix)).map((o) => ({
      name: o.key.slice(folder.prefix.length),
      uri: `s3://${folder.bucket}/${o.key}`,
    }));
  }
  return listFolder(folder.uri, folder.path);
}

/**
 * Files under a local folder (already checked to lie in FILE_SOURCE_ROOTS). Symbolic links to
 * files are listed (each is checked again as a source), links to folders are not followed. A
 * folder that is missing, or an entry that cannot be resolved (dangling or looping link), is the
 * client's to fix: a 400 naming it relative to the source, never by its server path. `root` is
 * the folder's resolved path; each file's URI is the client's folder URI and the file's name
 * under it, so a folder reached through a link is never named by where the link leads.
 */
function listFolder(uri: string, root: string): ListedObject[] {
  const out: ListedObject[] = [];
  const asGiven = fileURLToPath(uri); // parsed when it was checked: it does not throw here
  const refuse = (path: string, error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const where = path === root ? 'the folder' : `'${relative(root, path)}'`;
    const why: Record<string, string> = {
      ENOENT: path === root ? 'does not exist' : 'is a dangling link',
      ENOTDIR: 'is not a folder',
      ELOOP: 'is a link that loops',
      EACCES: 'cannot be read (permission denied)',
    };
    return new StorageError(
      path === root && code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_URI',
      `${uri}: ${where} ${why[code] ?? `cannot be read (${code})`}`,
      uri,
    );
  };
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw refuse(dir, error);
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() || (entry.isSymbolicLink() && isFileBehindLink(path, refuse))) {
        const name = relative(root, path);
        out.push({ name, uri: pathToFileURL(join(asGiven, name)).href });
      }
    }
  };
  walk(root);
  return out;
}

function isFileBehindLink(path: string, refuse: (path: string, error: unknown) => Error): boolean {
  try {
    return statSync(path).isFile();
  } catch (error) {
    throw refuse(path, error);
  }
}
