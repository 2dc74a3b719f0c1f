/**
 * A buffer a pyramid level computes into. `view()` is called again after anything that may have
 * moved it: in the wasm heap (the writer's memory), a call into HDF5 can replace the ArrayBuffer
 * under every older view, though the bytes stay where they are.
 */
export interface Scratch<T> {
  view(): T;
  release(): void;
}

/** Where a LevelStream takes its buffers from. float64 buffers come zeroed. */
export interface ScratchMemory {
  uint16(length: number): Scratch<Uint16Array>;
  float64(length: number): Scratch<Float64Array>;
}

function fixed<T>(array: T): Scratch<T> {
  return { view: () => array, release: () => undefined };
}

/** Plain JavaScript arrays (tests, and whatever needs no HDF5). */
export const jsMemory: ScratchMemory = {
  uint16: (length) => fixed(new Uint16Array(length)),
  float64: (length) => fixed(new Float64Array(length)),
};
