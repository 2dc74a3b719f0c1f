import { extname } from 'node:path';
import { FileByteSource, type ByteSource } from './byte-source.js';
import { openNpy } from './npy-reader.js';
import { openRaw, type RawLayout } from './raw-reader.js';
import { StackError } from './stack-error.js';
import type { StackFormat, StackReader } from './stack-reader.js';
import { openTiff } from './tiff-reader.js';

export interface OpenStackOptions extends RawLayout {
  format?: StackFormat;
}

/** File name extensions of each input format (what a folder given to the CLI contributes). */
export const STACK_EXTENSIONS: Readonly<Record<string, StackFormat>> = {
  '.npy': 'npy',
  '.raw': 'raw',
  '.bin': 'raw',
  '.tif': 'tiff',
  '.tiff': 'tiff',
};

/** Format from the option, else from the file name. */
export function formatOf(name: string, format?: StackFormat): StackFormat {
  if (format) return format;
  const guessed = STACK_EXTENSIONS[extname(name.replace(/[?#].*$/, '')).toLowerCase()];
  if (!guessed) {
    throw new StackError(
      'UNSUPPORTED',
      `${name}: cannot tell the format from the name; give format npy, raw or tiff`,
      name,
    );
  }
  return guessed;
}

/** Opens any supported stack from a byte source; the source is closed if the header is refused. */
export async function openStackSource(
  source: ByteSource,
  options: OpenStackOptions = {},
): Promise<StackReader> {
  try {
    const format = formatOf(source.name, options.format);
    if (format === 'npy') return await openNpy(source, options);
    if (format === 'tiff') return await openTiff(source, options);
    return openRaw(source, options);
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** True when a file name has one of the input formats' extensions. */
export function isStackFileName(name: string): boolean {
  return STACK_EXTENSIONS[extname(name).toLowerCase()] !== undefined;
}

export async function openStackFile(path: string, options: OpenStackOptions = {}): Promise<StackReader> {
  return openStackSource(await FileByteSource.open(path), options);
}
