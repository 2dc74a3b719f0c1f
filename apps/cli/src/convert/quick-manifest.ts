import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  compileFilenamePattern,
  manifestFromMatches,
  type FilenamePattern,
  type ManifestInput,
  type ManifestParts,
  type PatternField,
  type PatternMatch,
} from '@bdv-cluster/contract';
import { formatOf, isStackFileName, STACK_EXTENSIONS, type StackFormat } from '@bdv-cluster/stacks';
import { CliError, systemReason } from '../cli-error.js';

export interface QuickOptions extends ManifestParts {
  pattern?: string;
}

/** A stack file found, and the part of its path the pattern is matched against. */
interface InputFile {
  path: string;
  matched: string;
}

/** Files given on the command line; a directory contributes its stack files (sorted, not recursive). */
function expandInputs(inputs: string[]): InputFile[] {
  const files: string[] = [];
  for (const input of inputs) {
    const stat = statInput(input);
    if (stat.isDirectory()) {
      const found = listFolder(input)
        .filter((name) => isStackFileName(name) && !isFolder(join(input, name)))
        .sort()
        .map((f) => join(input, f));
      if (found.length === 0)
        throw new CliError(`${input}: no ${Object.keys(STACK_EXTENSIONS).join('/')} files in this folder`);
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return files.map((f) => ({ path: resolve(f), matched: basename(f) }));
}

/**
 * For a pattern that names folders (`t{time}/ch{channel}.npy`, as a batch's may): the stack
 * files exactly as many folders deep under each folder given as the pattern has `/`, matched by
 * their path below it. Only that deep: a walk bounded by the pattern, never the whole tree.
 */
function filesUnderFolders(inputs: string[], pattern: string): InputFile[] {
  const depth = pattern.split('/').length - 1;
  if (
    pattern.startsWith('/') ||
    pattern.split('/').some((part) => part === '' || part === '.' || part === '..')
  )
    throw new CliError(
      `--pattern '${pattern}': folders in a pattern are relative to the folder given, one name each (no leading, doubled or trailing '/', no '.' or '..')`,
    );
  const files: InputFile[] = [];
  for (const input of inputs) {
    if (!statInput(input).isDirectory())
      throw new CliError(
        `${input}: --pattern '${pattern}' names folders, so give the folder that holds them (not a file)`,
      );
    const found = walk(resolve(input), '', depth);
    if (found.length === 0)
      throw new CliError(
        `${input}: no ${Object.keys(STACK_EXTENSIONS).join('/')} files ${depth} folder(s) deep, as --pattern '${pattern}' has them`,
      );
    files.push(...found);
  }
  return files;
}

/** A folder to walk into; anything else (a file, a dangling link) is not one. */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function walk(root: string, below: string, depth: number): InputFile[] {
  const folder = below ? join(root, below) : root;
  const names = listFolder(folder).sort();
  if (depth === 0)
    return names
      .filter((name) => isStackFileName(name) && !isFolder(join(folder, name)))
      .map((name) => ({ path: join(folder, name), matched: below ? `${below}/${name}` : name }));
  return names
    .filter((name) => !name.startsWith('.') && isFolder(join(folder, name)))
    .flatMap((name) => walk(root, below ? `${below}/${name}` : name, depth - 1));
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
): { manifest: ManifestInput; skipped: string[]; fromOne: FieldStart[] } {
  const files = o.pattern?.includes('/') ? filesUnderFolders(inputs, o.pattern) : expandInputs(inputs);
  const pattern = compilePattern(o.pattern, files.length);
  const matches: PatternMatch[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const indices = pattern
      ? pattern.match(file.matched)
      : { time: 0, illumination: 0, channel: 0, tile: 0, angle: 0 };
    if (!indices) {
      if (inputs.some((i) => resolve(i) === file.path))
        throw new CliError(`${file.path}: does not match --pattern '${o.pattern}'`);
      skipped.push(file.path); // a folder may hold other stacks: said, not converted
      continue;
    }
    matches.push({ uri: file.path, indices });
  }
  if (matches.length === 0) throw new CliError(`no input file matches --pattern '${o.pattern}'`);
  for (const { uri } of matches) assertReadableAs(uri, o);
  return { manifest: manifestFromMatches(matches, o), skipped, fromOne: fieldsNotFromZero(pattern, matches) };
}

/**
 * A pattern field whose smallest index among the files is above 0: that index, and the number
 * the file names give it (the index plus what `{field-N}` already takes off).
 */
export interface FieldStart {
  field: PatternField;
  first: number;
  firstInNames: number;
}

/**
 * Fields of the pattern that no file numbers 0: acquisition software often counts tiles,
 * channels and timepoints from 1, and index 0 then becomes an empty view in every setup.
 */
function fieldsNotFromZero(
  pattern: FilenamePattern | undefined,
  matches: readonly PatternMatch[],
): FieldStart[] {
  if (!pattern) return [];
  return pattern.fields
    .map((field, i) => {
      const first = matches.reduce((m, { indices }) => Math.min(m, indices[field]), Infinity);
      return { field, first, firstInNames: first + (pattern.offsets[i] ?? 0) };
    })
    .filter(({ first }) => first > 0);
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
