/** Types of wasm-sections.mjs (a build script in JavaScript). */
/** Each section's id and byte range: `start` of the section, `payload` to `end` its contents. */
export function sections(bytes: Buffer): { id: number; start: number; payload: number; end: number }[];
