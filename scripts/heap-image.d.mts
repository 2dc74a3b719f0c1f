/** Types of heap-image.mjs (a build script in JavaScript). */
/** HDF5's heap once the prepared copy at `hlFile` is ready, to its last non-zero byte (docs/adr/026). */
export function captureHeapImage(hlFile: string, initialBytes: number): Buffer;
/** The whole heap of the copy at `hlFile` once h5wasm is ready, loaded in a child process. */
export function startedHeap(
  hlFile: string,
  how: { env: NodeJS.ProcessEnv; cwd?: string; args?: string[] },
): { heap: Buffer; length: number };
/** How many words of static data the started twin may differ in from the started plain copy. */
export const STARTED_DIFFERENCES: number;
/** The addresses of the words of static data in which the started twin differs from `image`. */
export function startedDifferences(image: Buffer, twinHl: string, heapBase: number): number[];
/** The module's data segments; throws unless every one is active at a constant offset. */
export function dataSegments(wasm: Uint8Array): { offset: number; bytes: Buffer }[];
/** `wasm` with its data segments replaced by `image`, the heap it starts with from address 0. */
export function withHeapImage(wasm: Uint8Array, image: Uint8Array): Buffer;
/** The value of the module's `__heap_base`. */
export function heapBaseOf(wasm: Uint8Array): Promise<number>;
