import { crc32 as zlibCrc32 } from 'node:zlib';
import { loadNativeBinding } from './native-binding.js';

/** libdeflate's zlib-format calls (libs/bdv/native/bdv_deflate.c, built by scripts/build-native.mjs). */
export interface NativeDeflate {
  readonly version: string;
  /** Deflates `input` (level 0..12) into `output`: the bytes written, 0 when they do not fit. */
  compress(level: number, input: Uint8Array, output: Uint8Array): number;
  /** The most `compress` can write for `bytes` of input. */
  compressBound(level: number, bytes: number): number;
  /** Inflates a zlib stream into the whole of `output`; throws if it is damaged or not exactly that long. */
  decompress(input: Uint8Array, output: Uint8Array): void;
  /** CRC-32 (zlib's) of `input`, continuing from `value`. */
  crc32(value: number, input: Uint8Array): number;
}

/**
 * `BDV_DEFLATE=zlib` compresses and inflates with Node's zlib although the libdeflate binding is
 * there: for telling a fault of the binding from one elsewhere, and for testing that path.
 */
const USE_ZLIB = 'zlib';

/**
 * This thread's libdeflate binding (docs/adr/020), or undefined: not built (no compiler or no
 * libdeflate headers at build time), libdeflate missing at run time, or BDV_DEFLATE=zlib. Gzip
 * then goes through Node's zlib: the same zlib streams, ~1.3-1.8x slower per core.
 */
export function nativeDeflate(): NativeDeflate | undefined {
  // Asked on every call (a lookup per chunk of 10-500 KiB), so a test can switch engines.
  if (process.env.BDV_DEFLATE === USE_ZLIB) return undefined;
  return loadNativeBinding<NativeDeflate>('bdv_deflate', 'BDV_NATIVE_DEFLATE', "gzip uses Node's zlib");
}

/**
 * CRC-32 of `data` continuing from `value` (unsigned): libdeflate's (~2.7x zlib's on x86-64, the
 * same values) when its binding is there, else Node's zlib. Level checksums go through here.
 */
export function crc32(data: Uint8Array, value = 0): number {
  const binding = nativeDeflate();
  return binding ? binding.crc32(value >>> 0, data) : zlibCrc32(data, value >>> 0);
}

/** Which deflate writes and reads gzip chunks in this thread, as the CLI and the logs say it. */
export function deflateEngine(): string {
  const binding = nativeDeflate();
  return binding ? `libdeflate ${binding.version}` : 'Node zlib';
}
