import { describe, expect, it } from 'vitest';
import { dataSegments, withHeapImage } from '../../../scripts/heap-image.mjs';
import { sections } from '../../../scripts/wasm-sections.mjs';

// scripts/heap-image.mjs replaces a module's data segments with the heap it should start with
// (docs/adr/026); here on modules small enough to write out by hand, instantiated for real.

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const name = (s: string) => [s.length, ...Buffer.from(s)];
const section = (id: number, payload: number[]) => [id, payload.length, ...payload];
/** An active segment of memory 0 at `offset` (< 64: one-byte signed LEB). */
const active = (offset: number, bytes: number[]) => [0x00, 0x41, offset, 0x0b, bytes.length, ...bytes];

/** (memory 1 page) exported as "m", a function after it, the given data segments (and a data count). */
function moduleWith(segments: number[][], passive = false): Buffer {
  const data = passive ? [0x01, 3, 7, 8, 9] : segments.flat();
  return Buffer.from([
    ...HEADER,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [1, ...name('m'), 2, 0]),
    ...section(12, [passive ? 1 : segments.length]),
    ...section(10, [1, 2, 0, 0x0b]),
    ...section(11, [passive ? 1 : segments.length, ...data]),
  ]);
}

/** Each section's id and contents. */
function sectionsOf(wasm: Buffer): { id: number; bytes: Buffer }[] {
  return sections(wasm).map((s) => ({ id: s.id, bytes: wasm.subarray(s.payload, s.end) }));
}

function memoryOf(wasm: Uint8Array): Uint8Array {
  const m = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports.m as WebAssembly.Memory;
  return new Uint8Array(m.buffer);
}

describe('heap-image', () => {
  it('reads active segments', () => {
    const wasm = moduleWith([active(4, [1, 2]), active(40, [3])]);
    expect(dataSegments(wasm).map((s) => [s.offset, [...s.bytes]])).toEqual([
      [4, [1, 2]],
      [40, [3]],
    ]);
  });

  it('starts the memory as the image, everything but the data unchanged', () => {
    const before = moduleWith([active(4, [1, 2, 3])]);
    const image = new Uint8Array(70_000 - 6_000);
    image.set([9, 9], 2); // over the old segment's bytes
    image[3_000] = 5; // far past any segment: a second one
    image.set([1, 0, 0, 2], 50_000); // a short gap of zeros stays inside one segment
    image[image.length - 1] = 7;
    const after = withHeapImage(before, image);
    const memory = memoryOf(after);
    expect(memory.subarray(0, image.length)).toEqual(image);
    expect(memory.subarray(image.length).every((b) => b === 0)).toBe(true);
    const segments = dataSegments(after);
    expect(segments.map((s) => s.offset)).toEqual([2, 3_000, 50_000, image.length - 1]);
    expect(segments[2]!.bytes.length).toBe(4);
    // every section but the data and its count is byte for byte the same
    const kept = (wasm: Buffer) => sectionsOf(wasm).filter((s) => s.id !== 11 && s.id !== 12);
    expect(kept(after)).toEqual(kept(before));
  });

  it('refuses an image larger than the initial memory, and passive segments', () => {
    const wasm = moduleWith([active(0, [1])]);
    expect(() => withHeapImage(wasm, new Uint8Array(65_537).fill(1))).toThrow(
      /larger than the initial memory/,
    );
    expect(() => withHeapImage(moduleWith([], true), new Uint8Array([1]))).toThrow(/not active/);
  });
});
