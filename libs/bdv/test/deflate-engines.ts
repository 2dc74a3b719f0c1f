import { deflateSync } from 'node:zlib';
import { expect, vi } from 'vitest';
import { nativeDeflate } from '../src/h5/native-deflate.js';

/**
 * What each engine of the host deflate filter makes of a chunk: the bytes a file must hold
 * (libdeflate's differ from zlib's; both are zlib streams). docs/adr/020.
 */
export const DEFLATE_ENGINES = {
  libdeflate: (data: Uint8Array, level: number): Buffer => {
    const binding = nativeDeflate()!;
    const out = Buffer.alloc(binding.compressBound(level, data.length));
    return out.subarray(0, binding.compress(level, data, out));
  },
  zlib: (data: Uint8Array, level: number): Buffer => deflateSync(data, { level }),
};

export type DeflateEngine = keyof typeof DEFLATE_ENGINES;
export const DEFLATE_ENGINE_NAMES = Object.keys(DEFLATE_ENGINES) as DeflateEngine[];

/** This thread's gzip goes through `engine` from now on (BDV_DEFLATE; vi.unstubAllEnvs undoes it). */
export function useDeflateEngine(engine: DeflateEngine): void {
  vi.stubEnv('BDV_DEFLATE', engine === 'zlib' ? 'zlib' : '');
}

/** The binding is there exactly when `engine` is libdeflate: CI builds it, so its absence fails. */
export function expectDeflateEngineInUse(engine: DeflateEngine): void {
  expect(nativeDeflate() !== undefined, 'libdeflate binding: run `npm run build` with libdeflate-dev').toBe(
    engine === 'libdeflate',
  );
}
