// The WebAssembly module that h5wasm's Node build embeds in hdf5_util.js as a string literal
// (Emscripten's SINGLE_FILE): found, decoded and checked. Used by prepare-h5wasm.mjs and by the
// test that compares its copy with the original (libs/bdv/test/prepared-h5wasm.test.ts).
import { runInNewContext } from 'node:vm';

/** The start of the one function that holds the embedded module, as Emscripten writes it. */
const HEAD = "function findWasmBinary(){return binaryDecode('";
const TAIL = "')}";

/** Emscripten's SINGLE_FILE decoder: one character per byte. */
const toBytes = (text) => {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = (~c >> 8) & c;
  }
  return bytes;
};

/**
 * `util`: the text of h5wasm's hdf5_util.js (`path` names it in errors). Returns the module's
 * bytes and where its `binaryDecode('...')` call starts and ends in the text.
 */
export function embeddedModule(util, path) {
  const at = util.indexOf(HEAD);
  if (at < 0 || util.indexOf(HEAD, at + 1) >= 0) throw new Error(`${path}: no single embedded module`);
  // The literal's closing quote: the first quote not escaped by a backslash.
  const open = at + HEAD.length - 1;
  let close = open + 1;
  while (close < util.length && util[close] !== "'") close += util[close] === '\\' ? 2 : 1;
  if (!util.startsWith(TAIL, close)) throw new Error(`${path}: the embedded module is not a plain literal`);
  const wasm = toBytes(runInNewContext(util.slice(open, close + 1)));
  if (!WebAssembly.validate(wasm)) throw new Error(`${path}: the embedded module is not valid WebAssembly`);
  return { wasm, callStart: open - 'binaryDecode('.length, callEnd: close + TAIL.length - 1 };
}
