import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../cli-error.js';

/**
 * A manifest's `source.uri` as a local path: a plain path (relative to the manifest) or a
 * file:// URI. Object-store URIs belong to the cluster (`bdv submit`), not the in-process path.
 */
export function localPathOf(uri: string, baseDir: string, field: string): string {
  if (/^file:/i.test(uri)) {
    try {
      return fileURLToPath(uri);
    } catch (error) {
      throw new CliError(`${field}: ${uri} is not a valid file:// URI (${(error as Error).message})`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new CliError(
      `${field}: ${uri} is not a local file; bdv convert reads local files (use bdv submit for the cluster)`,
    );
  }
  return isAbsolute(uri) ? uri : resolve(baseDir, uri);
}
