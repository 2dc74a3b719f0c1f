/** Types of heap-image.mjs (a build script in JavaScript). */
/** HDF5's heap once the prepared copy at `hlFile` is ready, to its last non-zero byte (docs/adr/026). */
export function captureHeapImage(hlFile: string): Buffer;
/** The module's data segments; throws unless every one is active at a constant offset. */
export function dataSegments(wasm: Uint8Array): { offset: number; bytes: Buffer }[];
/** `wasm` with its data segments replaced by `image`, the heap it starts with from address 0. */
export function withHeapImage(wasm: Uint8Array, image: Uint8Array): Buffer;
