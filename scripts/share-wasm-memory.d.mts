/** Types of share-wasm-memory.mjs (a build script in JavaScript). */
/** The module with the one memory it defines made shared (docs/adr/019). */
export function shareDefinedMemory(wasm: Uint8Array): Buffer;
/** A side module with its imported memory declared shared, at most `maxPages` 64 KiB pages. */
export function shareImportedMemory(wasm: Uint8Array, maxPages: number): Buffer;
/** The maximum (in 64 KiB pages) of the memory a module defines, if it declares one. */
export function definedMemoryMaxPages(wasm: Uint8Array): number | undefined;
