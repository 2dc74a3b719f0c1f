import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  compileFilenamePattern,
  inferLayout,
  type FilenamePattern,
  type ManifestInput,
  type ViewIndices,
  type ViewSpecInput,
} from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';

export interface QuickOptions {
  name: string;
  pattern?: string;
  setup?: Partial<Record<'illuminations' | 'channels' | 'tiles' | 'angles', number>>;
  timepoints?: number;
  dataset: Omit<NonNullable<ManifestInput['dataset']>, 'name' | 'setup' | 'timepoints'>;
  view: Omit<ViewSpecInput, 'source' | 'time' | 'illumination' | 'channel' | 'tile' | 'angle'>;
  source: Omit<ViewSpecInput['source'], 'uri'>;
}

const STACK_FILE = /\.(npy|raw|bin|tiff?)$/i;

/** Files given on the command line; a directory contributes its stack files (sorted, not recursive). */
export function expandInputs(inputs: string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    let stat;
    try {
      stat = statSync(input);
    } catch {
      throw new CliError(`${input}: no such file or directory`);
    }
    if (stat.isDirectory()) {
      const found = readdirSync(input)
        .filter((f) => STACK_FILE.test(f))
        .sort()
        .map((f) => join(input, f));
      if (found.length === 0) throw new CliError(`${input}: no .npy/.raw/.tif files in this folder`);
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return files.map((f) => resolve(f));
}

/**
 * The quick form of `bdv convert`: files (+ a pattern naming the indices in their names) become a
 * manifest; counts are inferred from the highest indices unless given.
 */
export function quickManifest(inputs: string[], o: QuickOptions): ManifestInput {
  const files = expandInputs(inputs);
  let pattern: FilenamePattern | undefined;
  if (o.pattern) {
    try {
      pattern = compileFilenamePattern(o.pattern);
    } catch (error) {
      throw new CliError(`--pattern: ${(error as Error).message.replace(/^pattern: /, '')}`);
    }
  } else if (files.length > 1) {
    throw new CliError(
      `${files.length} input files need --pattern to say which view each is (e.g. 't{time}_c{channel}.npy')`,
    );
  }
  const matched: { file: string; indices: ViewIndices }[] = [];
  for (const file of files) {
    const indices = pattern
      ? pattern.match(basename(file))
      : { time: 0, illumination: 0, channel: 0, tile: 0, angle: 0 };
    if (!indices) {
      if (inputs.some((i) => resolve(i) === file))
        throw new CliError(`${file}: does not match --pattern '${o.pattern}'`);
      continue; // a folder may hold other files
    }
    matched.push({ file, indices });
  }
  if (matched.length === 0) throw new CliError(`no input file matches --pattern '${o.pattern}'`);
  const inferred = inferLayout(matched.map((m) => m.indices));
  const views: ViewSpecInput[] = matched.map(({ file, indices }) => ({
    ...indices,
    ...o.view,
    source: { uri: file, ...o.source },
  }));
  return {
    dataset: {
      ...o.dataset,
      name: o.name,
      setup: { ...inferred.setup, ...o.setup },
      timepoints: o.timepoints ?? inferred.timepoints,
    },
    views,
  };
}
