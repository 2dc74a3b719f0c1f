/** Types of h5wasm-embedded-module.mjs (a build script in JavaScript). */
export function embeddedModule(
  util: string,
  path: string,
): { wasm: Uint8Array; callStart: number; callEnd: number };
