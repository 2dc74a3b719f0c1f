/** Types of share-wasm-memory.mjs (a build script in JavaScript). */
/** The module with the one memory it defines made shared (docs/adr/019). */
export function shareDefinedMemory(wasm: Uint8Array): Buffer;
/** A side module with its imported memory declared shared, at most `maxPages` 64 KiB pages. */
export function shareImportedMemory(wasm: Uint8Array, maxPages: number): Buffer;
/** The limits of the one memory a module defines: where its flags byte sits, flags, min and max pages. */
export function definedMemoryLimits(wasm: Uint8Array): {
  at: number;
  flags: number;
  min: number;
  max: number | undefined;
};
