import { describe, expect, it } from 'vitest';
import {
  definedMemoryLimits,
  shareDefinedMemory,
  shareImportedMemory,
} from '../../../scripts/share-wasm-memory.mjs';

// scripts/share-wasm-memory.mjs rewrites the limits of a module's memory (docs/adr/019); here on
// modules small enough to write out by hand, instantiated for real.

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const name = (s: string) => [s.length, ...Buffer.from(s)];
const section = (id: number, payload: number[]) => [id, payload.length, ...payload];

/** (memory min max?) exported as "m", and a function (type () -> ()) so there is more after it. */
function definingModule(limits: number[]): Buffer {
  return Buffer.from([
    ...HEADER,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, ...limits]),
    ...section(7, [1, ...name('m'), 2, 0]),
    ...section(10, [1, 2, 0, 0x0b]),
  ]);
}

/** Imports a function and then (memory limits) from env, re-exports the memory as "m". */
function importingModule(limits: number[]): Buffer {
  return Buffer.from([
    ...HEADER,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(2, [2, ...name('env'), ...name('f'), 0, 0, ...name('env'), ...name('memory'), 2, ...limits]),
    ...section(7, [1, ...name('m'), 2, 0]),
  ]);
}

describe('share-wasm-memory', () => {
  it('makes a defined memory shared, same sizes, the rest of the module unchanged', () => {
    const before = definingModule([0x01, 2, (300 & 0x7f) | 0x80, 300 >> 7]);
    const after = shareDefinedMemory(before);
    expect(definedMemoryLimits(after)).toMatchObject({ flags: 0x03, min: 2, max: 300 });
    const memory = new WebAssembly.Instance(new WebAssembly.Module(before)).exports.m as WebAssembly.Memory;
    const shared = new WebAssembly.Instance(new WebAssembly.Module(after)).exports.m as WebAssembly.Memory;
    expect(memory.buffer).toBeInstanceOf(ArrayBuffer);
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.buffer.byteLength).toBe(2 * 65536);
    expect(after.length).toBe(before.length);
    expect([...after].filter((b, i) => b !== before[i])).toEqual([0x03]);
  });

  it('refuses a memory without a maximum, an already shared one, and a module without one', () => {
    expect(() => shareDefinedMemory(definingModule([0x00, 1]))).toThrow(/needs a maximum/);
    const once = shareDefinedMemory(definingModule([0x01, 1, 4]));
    expect(() => shareDefinedMemory(once)).toThrow(/already shared/);
    expect(() => shareDefinedMemory(importingModule([0x00, 1]))).toThrow(/defines no memory/);
    expect(() => shareDefinedMemory(Buffer.from('not wasm at all'))).toThrow(/not a WebAssembly module/);
  });

  it('makes an imported memory shared with the maximum asked for: it then links to a shared memory only', () => {
    const before = importingModule([0x00, 1]);
    const after = shareImportedMemory(before, 8);
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 8, shared: true });
    const own = new WebAssembly.Memory({ initial: 1, maximum: 8 });
    const link = (module: Buffer, memory: WebAssembly.Memory) =>
      new WebAssembly.Instance(new WebAssembly.Module(module), { env: { f: () => undefined, memory } })
        .exports.m;
    expect(link(before, own)).toBe(own);
    expect(() => link(before, shared)).toThrow(WebAssembly.LinkError);
    expect(link(after, shared)).toBe(shared);
    expect(() => link(after, own)).toThrow(WebAssembly.LinkError);
    // a memory larger than the import's maximum is refused: the maximum is that of the host module
    const larger = new WebAssembly.Memory({ initial: 1, maximum: 9, shared: true });
    expect(() => link(after, larger)).toThrow(WebAssembly.LinkError);
    // a maximum already declared is kept
    const kept = shareImportedMemory(importingModule([0x01, 1, 4]), 8);
    expect(() => link(kept, shared)).toThrow(WebAssembly.LinkError);
    expect(link(kept, new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true }))).toBeDefined();
    expect(() => shareImportedMemory(definingModule([0x01, 1, 4]), 8)).toThrow(/imports nothing/);
  });
});
