#!/usr/bin/env node
// Writes libs/bdv/dist/h5wasm: h5wasm's Node build with its WebAssembly in a file of its own
// (part of `npm run build`, after `tsc -b`). Why: h5wasm ships the 3.5 MB module as a string
// literal inside a 4.2 MB JavaScript file, so every process and every writer thread that loads
// HDF5 first parses that string, decodes it as UTF-8, turns it back into bytes character by
// character and collects the garbage — ~100 ms of a 2-core machine's start-up, more than the
// compile of the module itself (measured: import + ready 240 -> 140 ms; docs/adr/014).
// The copy is an optimisation only: libs/bdv's h5wasm-runtime.ts loads it when it was made from
// the h5wasm that is installed (same version, same file size) and `h5wasm/node` otherwise, so a
// failure here warns and leaves no copy instead of failing the build.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { packageFolder } from './package-folder.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'libs/bdv/dist/h5wasm');

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

function prepare() {
  const pkg = packageFolder('h5wasm', join(root, 'libs/bdv'));
  if (!pkg) throw new Error('h5wasm is not installed');
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  const from = join(pkg, 'dist/node');
  const utilPath = join(from, 'hdf5_util.js');
  const util = readFileSync(utilPath, 'utf8');
  const at = util.indexOf(HEAD);
  if (at < 0 || util.indexOf(HEAD, at + 1) >= 0) throw new Error(`${utilPath}: no single embedded module`);
  // The literal's closing quote: the first quote not escaped by a backslash.
  const open = at + HEAD.length - 1;
  let close = open + 1;
  while (close < util.length && util[close] !== "'") close += util[close] === '\\' ? 2 : 1;
  if (!util.startsWith(TAIL, close))
    throw new Error(`${utilPath}: the embedded module is not a plain literal`);
  const wasm = toBytes(runInNewContext(util.slice(open, close + 1)));
  if (!WebAssembly.validate(wasm))
    throw new Error(`${utilPath}: the embedded module is not valid WebAssembly`);
  const load = "__bdvReadWasm(new URL('./hdf5_util.wasm', import.meta.url))";
  const patched =
    "import { readFileSync as __bdvReadWasm } from 'node:fs';\n" +
    util.slice(0, open - 'binaryDecode('.length) +
    load +
    util.slice(close + TAIL.length - 1);

  const staging = `${out}.${process.pid}`;
  const retired = `${out}.${process.pid}.old`;
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    copyFileSync(join(from, 'hdf5_hl.js'), join(staging, 'hdf5_hl.js'));
    writeFileSync(join(staging, 'hdf5_util.js'), patched);
    writeFileSync(join(staging, 'hdf5_util.wasm'), wasm);
    const source = {
      h5wasm: version,
      utilBytes: statSync(utilPath).size,
      hlBytes: statSync(join(from, 'hdf5_hl.js')).size,
      wasmBytes: wasm.length,
      wasmSha256: createHash('sha256').update(wasm).digest('hex'),
    };
    writeFileSync(join(staging, 'source.json'), JSON.stringify(source, null, 2) + '\n');
    // Swapped by two renames: a process loading HDF5 meanwhile finds the old copy or the new one
    // whole (or, between the renames, none: it loads h5wasm itself), never a half-deleted folder.
    if (existsSync(out)) renameSync(out, retired);
    renameSync(staging, out);
    return source;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(retired, { recursive: true, force: true });
  }
}

try {
  prepare();
} catch (error) {
  // A copy already there is left: loadH5 checks it against the installed h5wasm before use (and
  // it may be another build's, made at the same moment).
  console.error(
    `prepare-h5wasm: no copy (${error instanceof Error ? error.message : error}); HDF5 loads from h5wasm itself, only slower to start (unless an earlier copy still matches)`,
  );
}
