import { readFileSync } from 'node:fs';
import type { ManifestInput } from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';

/** A manifest file's JSON (validated by the caller); one-line errors for a missing or broken file. */
export function readManifestFile(file: string): ManifestInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a folder, not a manifest file'
          : (error as Error).message;
    throw new CliError(`${file}: ${reason}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text.slice(0, 4096)))
    throw new CliError(`${file}: not a manifest (binary content, not JSON text)`);
  let parsed: unknown;
  try {
    // A UTF-8 byte order mark (Windows editors write one) is not part of the JSON.
    parsed = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
  // null, a list or a number would fail later on a property of nothing, naming no file.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CliError(
      `${file}: a manifest is a JSON object {"dataset": …, "views": […]}, not ${parsed === null ? 'null' : Array.isArray(parsed) ? 'a list' : `a ${typeof parsed}`}`,
    );
  return parsed as ManifestInput;
}
