import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  compileFilenamePattern,
  manifestFromMatches,
  type FilenamePattern,
  type ManifestInput,
  type ManifestParts,
  type PatternMatch,
} from '@bdv-cluster/contract';
import { formatOf, isStackFileName, STACK_EXTENSIONS, type StackFormat } from '@bdv-cluster/stacks';
import { CliError, systemReason } from '../cli-error.js';

export interface QuickOptions extends ManifestParts {
  pattern?: string;
}

/** Files given on the command line; a directory contributes its stack files (sorted, not recursive). */
function expandInputs(inputs: string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    const stat = statInput(input);
    if (stat.isDirectory()) {
      const found = listFolder(input)
        .filter(isStackFileName)
        .sort()
        .map((f) => join(input, f));
      if (found.length === 0)
        throw new CliError(`${input}: no ${Object.keys(STACK_EXTENSIONS).join('/')} files in this folder`);
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return files.map((f) => resolve(f));
}

function statInput(input: string): Stats {
  try {
    return statSync(input);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    // Kept as it was for a missing input; the rest in words, not as a bare code.
    throw new CliError(`${input}: ${e.code === 'ENOENT' ? 'no such file or directory' : systemReason(e)}`);
  }
}

function listFolder(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch (error) {
    throw new CliError(`${folder}: cannot list this folder: ${systemReason(error as NodeJS.ErrnoException)}`);
  }
}

/**
 * The quick form of `bdv convert`: files (+ a pattern naming the indices in their names) become a
 * manifest, exactly as a batch's objects do on the cluster (libs/contract manifestFromMatches).
 */
export function quickManifest(
  inputs: string[],
  o: QuickOptions,
): { manifest: ManifestInput; skipped: string[] } {
  // A batch's pattern may name folders under its prefix; here it meets file names only (checked
  // first: a folder of sub-folders would otherwise be refused as holding no stacks).
  if (o.pattern?.includes('/'))
    throw new CliError(
      `--pattern '${o.pattern}': bdv convert matches file names in the folders given (sub-folders are not searched): give each folder and the file-name part, e.g. -p '${o.pattern.split('/').at(-1)}'`,
    );
  const files = expandInputs(inputs);
  const pattern = compilePattern(o.pattern, files.length);
  const matches: PatternMatch[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const indices = pattern
      ? pattern.match(basename(file))
      : { time: 0, illumination: 0, channel: 0, tile: 0, angle: 0 };
    if (!indices) {
      if (inputs.some((i) => resolve(i) === file))
        throw new CliError(`${file}: does not match --pattern '${o.pattern}'`);
      skipped.push(file); // a folder may hold other stacks: said, not converted
      continue;
    }
    matches.push({ uri: file, indices });
  }
  if (matches.length === 0) throw new CliError(`no input file matches --pattern '${o.pattern}'`);
  for (const { uri } of matches) assertReadableAs(uri, o);
  return { manifest: manifestFromMatches(matches, o), skipped };
}

/**
 * What a file's format needs from the command line, said in options before any file is opened
 * (the reader's own words, "give format …" or "needs shapeZyx", are the manifest's).
 */
function assertReadableAs(file: string, o: QuickOptions): void {
  let format;
  try {
    format = formatOf(file, o.sourceOptions?.format);
  } catch {
    throw new CliError(`${file}: cannot tell the format from the name: give --format npy, raw or tiff`);
  }
  assertOptionsApply(file, format, o.sourceOptions);
  if (format === 'raw' && !o.sourceOptions?.shapeZyx)
    throw new CliError(
      `${file}: raw input needs --shape z,y,x (and --dtype, --byte-order, --header-bytes where it is not uint16, little-endian, from byte 0)`,
    );
}

/**
 * Options only raw input reads: a .npy or a TIFF says its byte order and where its samples start
 * in its header, so these were silently dropped (a user's --byte-order big that changed nothing).
 * --shape and --dtype apply to every format: checked against the header (StackExpectation).
 */
function assertOptionsApply(file: string, format: StackFormat, o: QuickOptions['sourceOptions']): void {
  if (format === 'raw') return;
  const given = [
    o?.byteOrder !== undefined ? '--byte-order' : undefined,
    o?.headerBytes !== undefined ? '--header-bytes' : undefined,
  ].filter((option) => option !== undefined);
  if (given.length === 0) return;
  throw new CliError(
    `${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} to raw input only (${basename(file)} is ${FORMAT_NAMES[format]}, which records its layout in its header): leave ${given.length > 1 ? 'them' : 'it'} out, or give --format raw to read the file as raw samples`,
  );
}

const FORMAT_NAMES: Record<StackFormat, string> = { npy: '.npy', tiff: 'TIFF', raw: 'raw' };

function compilePattern(pattern: string | undefined, files: number): FilenamePattern | undefined {
  if (pattern) {
    try {
      return compileFilenamePattern(pattern);
    } catch (error) {
      throw new CliError(`--pattern: ${(error as Error).message.replace(/^pattern: /, '')}`);
    }
  }
  if (files > 1)
    throw new CliError(
      `${files} input files need --pattern to say which view each is (e.g. 't{time}_c{channel}.npy')`,
    );
  return undefined;
}
