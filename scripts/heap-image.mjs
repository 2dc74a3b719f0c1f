// HDF5 initialised once, at build time, instead of in every process and thread (docs/adr/026):
// h5wasm's constructors set up the HDF5 library (its datatype-conversion table above all), ~40–55
// ms of wasm run by V8's baseline compiler at every start. Used by prepare-h5wasm.mjs: a child
// process with an empty environment loads the prepared copy, and the heap it holds once h5wasm is
// ready becomes the module's data segments. At run time the constructors still run (embind's
// registrations are JavaScript state, libc copies the environment afresh), but HDF5 finds itself
// initialised and returns at once. The image is refused, and the build keeps the plain copy, when
// the module's data is not what this assumes (active segments only, a heap that did not grow).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { definedMemoryLimits } from './share-wasm-memory.mjs';
import { leb, readLeb, sections, sleb32, withSection } from './wasm-sections.mjs';

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
 */
export function captureHeapImage(hlFile) {
  const dir = mkdtempSync(join(tmpdir(), 'bdv-heap-image-'));
  const out = join(dir, 'heap');
  const child = `
    import { writeFileSync } from 'node:fs';
    const { default: h5 } = await import(${JSON.stringify(pathToFileURL(hlFile).href)});
    const module = await h5.ready;
    const heap = module.HEAPU8;
    if (heap[module._H5_libinit_g] !== 1) throw new Error('HDF5 is not initialised once h5wasm is ready');
    let end = heap.length;
    while (end > 0 && heap[end - 1] === 0) end--;
    writeFileSync(${JSON.stringify(out)}, heap.slice(0, end));`;
  try {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', child], {
      env: {},
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (run.status !== 0) {
      throw new Error(`loading HDF5 to image its heap failed: ${run.error?.message ?? run.stderr.trim()}`);
    }
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

function readSleb32(bytes, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    if (byte === undefined) throw new Error('truncated LEB128');
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  if (shift < 32 && byte & 0x40) value |= -1 << shift;
  return { value, at };
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
  dataSegments(bytes);
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
