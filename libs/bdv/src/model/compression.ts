import { invalid } from '../errors.js';

export type CompressionName = 'none' | 'gzip' | 'lzf';

/** What the HDF5 layer needs: the filter and its level (gzip only). */
export interface CompressionSpec {
  name: CompressionName;
  level?: number;
}

export const DEFAULT_GZIP_LEVEL = 4;

export function resolveCompression(name: string = 'none', level?: number): CompressionSpec {
  if (name !== 'none' && name !== 'gzip' && name !== 'lzf') {
    throw invalid('compression', `must be one of none, gzip, lzf; got "${name}"`);
  }
  if (name !== 'gzip') {
    if (level !== undefined) throw invalid('compressionLevel', `only applies to gzip, not ${name}`);
    return { name };
  }
  const resolved = level ?? DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(resolved) || resolved < 0 || resolved > 9) {
    throw invalid('compressionLevel', `gzip level must be an integer 0..9, got ${level}`);
  }
  return { name, level: resolved };
}
