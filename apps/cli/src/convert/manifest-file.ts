import { readFileSync } from 'node:fs';
import type { ManifestInput } from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';

/** A manifest file's JSON (validated by the caller); one-line errors for a missing or broken file. */
export function readManifestFile(file: string): ManifestInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`${file}: ${reason}`);
  }
  // null, a list or a number would fail later on a property of nothing, naming no file.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CliError(
      `${file}: a manifest is a JSON object {"dataset": …, "views": […]}, not ${parsed === null ? 'null' : Array.isArray(parsed) ? 'a list' : `a ${typeof parsed}`}`,
    );
  return parsed as ManifestInput;
}
