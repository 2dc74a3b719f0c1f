import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { H5Z_FLAG_REVERSE, hostDeflate, lastHostDeflateFailure } from '../src/h5/host-deflate.js';
import {
  DEFLATE_ENGINE_NAMES,
  DEFLATE_ENGINES,
  expectDeflateEngineInUse,
  useDeflateEngine,
} from './deflate-engines.js';

// hostDeflate against a real WebAssembly.Memory laid out as HDF5 calls its filter: cd_values,
// *buf_size and *buf as words, the chunk in a block. The allocator stands in for HDF5's
// H5allocate_memory / H5free_memory (a bump allocator that records what it was given back).
const CD_VALUES = 8;
const BUF_SIZE = 16;
const BUF = 24;
const CHUNK = 1024;

function heapWith(chunk: Uint8Array, level = 4) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
  const words = () => new DataView(memory.buffer);
  words().setUint32(CD_VALUES, level, true);
  words().setUint32(BUF_SIZE, chunk.length, true);
  words().setUint32(BUF, CHUNK, true);
  new Uint8Array(memory.buffer).set(chunk, CHUNK);
  let next = 32 * 1024;
  const freed: number[] = [];
  const allocator = {
    grow: false,
    H5allocate_memory(size: number) {
      if (this.grow) memory.grow(2); // the old ArrayBuffer is detached from here on
      const at = next;
      next += size;
      return at;
    },
    H5free_memory(pointer: number) {
      freed.push(pointer);
      return 0;
    },
  };
  const call = (flags = 0, cdNelmts = 1) =>
    hostDeflate(memory, allocator, flags, cdNelmts, CD_VALUES, chunk.length, BUF_SIZE, BUF);
  const block = () => {
    const at = words().getUint32(BUF, true);
    const size = words().getUint32(BUF_SIZE, true);
    return { at, size, bytes: (n: number) => new Uint8Array(memory.buffer, at, n).slice() };
  };
  return { memory, allocator, freed, call, block };
}

const compressible = () => new Uint8Array(4096).map((_, i) => (i % 64) + 100);

afterEach(() => void vi.unstubAllEnvs());

describe.each(DEFLATE_ENGINE_NAMES)('hostDeflate by %s (HDF5 deflate filter, write half)', (engine) => {
  const deflated = DEFLATE_ENGINES[engine];
  const useEngine = () => useDeflateEngine(engine);

  it('is the engine this test asks for', () => {
    useEngine();
    expectDeflateEngineInUse(engine);
  });

  it("compresses in place when the result fits HDF5's buffer, and returns its size", () => {
    useEngine();
    const data = compressible();
    const h = heapWith(data, 6);
    const size = h.call();
    expect(size).toBe(deflated(data, 6).length);
    expect(size).toBeLessThan(data.length);
    const { at, bytes } = h.block();
    expect(at).toBe(CHUNK); // same buffer, *buf_size left as the capacity
    expect(inflateSync(bytes(size)).equals(Buffer.from(data))).toBe(true);
    expect(h.freed).toEqual([]);
  });

  for (const grow of [false, true]) {
    it(`hands a larger result over in a new HDF5 block and frees the old one${grow ? ' (the memory grows meanwhile)' : ''}`, () => {
      useEngine();
      const data = new Uint8Array(randomBytes(4096));
      const h = heapWith(data);
      h.allocator.grow = grow;
      const size = h.call();
      expect(size).toBeGreaterThan(data.length); // random bytes grow under deflate
      const { at, size: recorded, bytes } = h.block();
      expect(at).not.toBe(CHUNK);
      expect(recorded).toBe(size);
      expect(h.freed).toEqual([CHUNK]);
      expect(Buffer.from(bytes(size)).equals(Buffer.from(deflated(data, 4)))).toBe(true);
      expect(inflateSync(bytes(size)).equals(Buffer.from(data))).toBe(true);
    });
  }

  it('fails (0) with its reason, once, and leaves the chunk alone', () => {
    useEngine();
    const cases: [string, () => number, RegExp][] = [
      ['read', () => heapWith(compressible()).call(H5Z_FLAG_REVERSE), /inflate/],
      ['parameters', () => heapWith(compressible()).call(0, 2), /2 filter parameters/],
      ['level', () => heapWith(compressible(), 10).call(), /gzip level 10/],
      [
        'allocation',
        () => {
          const h = heapWith(new Uint8Array(randomBytes(4096)));
          h.allocator.H5allocate_memory = () => 0;
          return h.call();
        },
        /could not allocate/,
      ],
    ];
    for (const [what, run, reason] of cases) {
      expect(run(), what).toBe(0);
      expect(lastHostDeflateFailure(), what).toMatch(reason);
      expect(lastHostDeflateFailure(), what).toBeUndefined();
    }
  });

  it('rethrows a dead wasm runtime instead of returning into it', () => {
    useEngine();
    const h = heapWith(new Uint8Array(randomBytes(4096)));
    h.allocator.H5allocate_memory = () => {
      throw new WebAssembly.RuntimeError('Aborted(OOM)');
    };
    expect(() => h.call()).toThrow(WebAssembly.RuntimeError);
  });
});
