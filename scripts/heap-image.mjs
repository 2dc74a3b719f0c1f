// HDF5 initialised once, at build time, instead of in every process and thread (docs/adr/026):
// h5wasm's constructors set up the HDF5 library (its datatype-conversion table above all), ~40–55
// ms of wasm run by V8's baseline compiler at every start. Used by prepare-h5wasm.mjs: a child
// process with an empty environment loads the prepared copy, and the heap it holds once h5wasm is
// ready becomes the module's data segments. At run time the constructors still run (embind's
// registrations are JavaScript state, libc copies the environment afresh), but HDF5 finds itself
// initialised and returns at once. The build refuses the twin (and keeps the plain copy) where
// this does not hold: data segments other than active ones at constant offsets, a heap that grew
// as it started, an image that changes with the process that took it, or a twin that, once
// started, differs from the plain copy in more than the few words STARTED_DIFFERENCES names.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { definedMemoryLimits } from './share-wasm-memory.mjs';
import { leb, readLeb, readSleb32, sections, sleb32, withSection } from './wasm-sections.mjs';

const DATA_SECTION = 11;
const DATA_COUNT_SECTION = 12;
const ACTIVE_MEMORY_0 = 0x00;
const I32_CONST = 0x41;
const END = 0x0b;
const PAGE_BYTES = 65536;
/** Zeros this many in a row end a segment: a segment's header costs ~6 bytes, shorter gaps are kept. */
const ZERO_GAP = 16;

/**
 * HDF5's heap once the prepared copy at `hlFile` is ready, up to its last non-zero byte, taken in
 * a child process with no environment variables: HDF5 reads its `HDF5_*` variables as it
 * initialises, so the image holds their defaults (prepared-h5wasm.ts uses it only where none is set).
 * Taken twice, from another folder with other arguments and a moment later: an image that holds
 * anything of the process that made it (the clock, its folder, its arguments) is refused. Refused
 * too if the heap grew past the module's `initialBytes` on the way: the image would then not be the
 * whole of it (the break of its allocator would lie past the memory the twin starts with).
 */
export function captureHeapImage(hlFile, initialBytes) {
  const first = startedHeap(hlFile, { env: {}, cwd: dirname(hlFile), args: [] });
  const second = startedHeap(hlFile, { env: {}, cwd: tmpdir(), args: ['heap', 'image'] });
  if (first.length !== initialBytes) {
    throw new Error(`HDF5's heap grew as it started (${first.length} bytes, not ${initialBytes})`);
  }
  if (!first.heap.equals(second.heap)) {
    throw new Error("HDF5's heap once started depends on the process that started it");
  }
  let end = first.heap.length;
  while (end > 0 && first.heap[end - 1] === 0) end--;
  return first.heap.subarray(0, end);
}

/**
 * The whole heap of the copy at `hlFile` once h5wasm is ready, loaded in a child process (with
 * `env`, `cwd`, `args` as given), and its length; throws unless HDF5 is initialised by then.
 */
export function startedHeap(hlFile, { env, cwd, args = [] }) {
  const dir = mkdtempSync(join(tmpdir(), 'bdv-heap-image-'));
  const out = join(dir, 'heap');
  const child = `
    import { writeFileSync } from 'node:fs';
    const { default: h5 } = await import(${JSON.stringify(pathToFileURL(hlFile).href)});
    const module = await h5.ready;
    const heap = module.HEAPU8;
    if (heap[module._H5_libinit_g] !== 1) throw new Error('HDF5 is not initialised once h5wasm is ready');
    writeFileSync(${JSON.stringify(out)}, heap.slice());`;
  try {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', child, ...args], {
      env,
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (run.status !== 0) {
      throw new Error(`loading HDF5 to image its heap failed: ${run.error?.message ?? run.stderr.trim()}`);
    }
    const heap = readFileSync(out);
    return { heap, length: heap.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * How many 4-byte words the twin's static data (below `heapBase`) holds at most, once started,
 * that differ from the plain copy's: its constructors run again over the image, and these are
 * what they do not leave as a first run does (ADR 026). libc's pointer to its copy of the
 * environment and three words of the allocator's state (a second copy was allocated: harmless),
 * and one node of embind's list of binding initialisers, which now points back at the list's head
 * (walked only by `_embind_initialize_bindings`, which a build without threads neither exports nor
 * calls). An h5wasm whose constructors leave more shows more, and the build refuses the twin.
 */
export const STARTED_DIFFERENCES = 5;

/**
 * The addresses of the words of static data (below `heapBase`) in which the twin's heap, once
 * ready, differs from `image` (the plain copy's started heap: captureHeapImage, zeros past its end),
 * the twin started in a process of its own with no environment either.
 */
export function startedDifferences(image, twinHl, heapBase) {
  const twin = startedHeap(twinHl, { env: {}, cwd: tmpdir(), args: [] }).heap;
  const plain = Buffer.alloc(Math.max(image.length, heapBase));
  image.copy(plain);
  const words = [];
  for (let at = 0; at + 4 <= Math.min(heapBase, twin.length); at += 4) {
    if (plain.readUInt32LE(at) !== twin.readUInt32LE(at)) words.push(at);
  }
  return words;
}

/** The module's data segments, each `{ offset, bytes }`; throws unless all are active at a constant. */
export function dataSegments(wasm) {
  const bytes = Buffer.from(wasm);
  const section = sections(bytes).find((s) => s.id === DATA_SECTION);
  if (!section) return [];
  const count = readLeb(bytes, section.payload);
  const segments = [];
  let at = count.at;
  for (let i = 0; i < count.value; i++) {
    const flags = readLeb(bytes, at);
    if (flags.value !== ACTIVE_MEMORY_0 || bytes[flags.at] !== I32_CONST) {
      throw new Error(`data segment ${i} is not active at a constant offset`);
    }
    const offset = readSleb32(bytes, flags.at + 1);
    if (bytes[offset.at] !== END) throw new Error(`data segment ${i}'s offset is not one constant`);
    const size = readLeb(bytes, offset.at + 1);
    segments.push({ offset: offset.value, bytes: bytes.subarray(size.at, size.at + size.value) });
    at = size.at + size.value;
  }
  return segments;
}

/** The non-zero stretches of `image` as [start, end) pairs, split at runs of ZERO_GAP zeros. */
function nonZeroRuns(image) {
  const runs = [];
  let at = 0;
  while (at < image.length) {
    while (at < image.length && image[at] === 0) at++;
    if (at === image.length) break;
    const start = at;
    let end = at;
    let zeros = 0;
    for (; at < image.length && zeros < ZERO_GAP; at++) {
      if (image[at] === 0) zeros++;
      else {
        zeros = 0;
        end = at + 1;
      }
    }
    runs.push([start, end]);
    at = end;
  }
  return runs;
}

/**
 * `wasm` with its data segments replaced by `image` (the heap it starts with, from address 0):
 * every other section is copied byte for byte. Throws where the image would not be the whole
 * truth of the memory at instantiation: passive or computed segments, an image larger than the
 * memory's initial size.
 */
export function withHeapImage(wasm, image) {
  let bytes = Buffer.from(wasm);
  dataSegments(bytes); // throws unless every segment is active at a constant offset
  const initialBytes = definedMemoryLimits(bytes).min * PAGE_BYTES;
  if (image.length > initialBytes) {
    throw new Error(
      `the heap image (${image.length} bytes) is larger than the initial memory (${initialBytes})`,
    );
  }
  const runs = nonZeroRuns(image);
  const payload = [Buffer.from(leb(runs.length))];
  for (const [start, end] of runs) {
    payload.push(
      Buffer.from([ACTIVE_MEMORY_0, I32_CONST, ...sleb32(start), END, ...leb(end - start)]),
      image.subarray(start, end),
    );
  }
  const data = sections(bytes).find((s) => s.id === DATA_SECTION);
  if (!data) throw new Error('the module has no data section');
  bytes = withSection(bytes, data, Buffer.concat(payload));
  const dataCount = sections(bytes).find((s) => s.id === DATA_COUNT_SECTION);
  if (dataCount) bytes = withSection(bytes, dataCount, Buffer.from(leb(runs.length)));
  if (!WebAssembly.validate(bytes)) throw new Error('the module with its heap image does not validate');
  return bytes;
}

/** The value of the module's `__heap_base` (where its allocator's heap starts: static data lies below). */
export async function heapBaseOf(wasm) {
  const { default: binaryen } = await import('binaryen');
  const m = binaryen.readBinary(wasm);
  try {
    const exported = binaryen.getExportInfo(m.getExport('__heap_base'));
    const global = binaryen.getGlobalInfo(m.getGlobal(exported.value));
    const init = binaryen.getExpressionInfo(global.init);
    if (init.id !== binaryen.ConstId) throw new Error('__heap_base is not a constant');
    return init.value;
  } finally {
    m.dispose();
  }
}
