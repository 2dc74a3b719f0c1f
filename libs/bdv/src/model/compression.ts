import { invalid } from '../errors.js';

/** HDF5 filters npy2bdv offers; lzf (id 32000) is readable by h5py, not by Fiji without a plugin. */
export const COMPRESSION_NAMES = ['none', 'gzip', 'lzf'] as const;
export type CompressionName = (typeof COMPRESSION_NAMES)[number];

/** What the HDF5 layer needs: the filter and its level (gzip only). */
export interface CompressionSpec {
  name: CompressionName;
  level?: number;
}

export const DEFAULT_GZIP_LEVEL = 4;
export const MAX_GZIP_LEVEL = 9;

export function resolveCompression(name: string = 'none', level?: number): CompressionSpec {
  if (!(COMPRESSION_NAMES as readonly string[]).includes(name)) {
    throw invalid('compression', `must be one of ${COMPRESSION_NAMES.join(', ')}; got "${name}"`);
  }
  if (name !== 'gzip') {
    if (level !== undefined) throw invalid('compressionLevel', `only applies to gzip, not ${name}`);
    return { name: name as CompressionName };
  }
  const resolved = level ?? DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(resolved) || resolved < 0 || resolved > MAX_GZIP_LEVEL) {
    throw invalid('compressionLevel', `gzip level must be an integer 0..${MAX_GZIP_LEVEL}, got ${level}`);
  }
  return { name, level: resolved };
}
