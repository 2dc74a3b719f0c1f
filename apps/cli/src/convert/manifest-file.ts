import { readFileSync } from 'node:fs';
import type { ManifestInput } from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';

/** A manifest file's JSON (validated by the caller); one-line errors for a missing or broken file. */
export function readManifestFile(file: string): ManifestInput {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ManifestInput;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`${file}: ${reason}`);
  }
}
