// Makes a WebAssembly module's linear memory shared (docs/adr/019): h5wasm's main module, whose
// memory it defines, and the filter plugins (side modules) that import that memory — an import
// must declare the same sharedness as the memory it is given, or instantiation fails. Shared,
// the heap is a SharedArrayBuffer that a helper thread can read (the level-0 checksum thread,
// libs/bdv/src/h5/checksum-thread.ts) while HDF5 writes the same slab from the owning thread.
// Only the limits byte (and, for an import without a maximum, the maximum) changes: no code does.

import { leb, readLeb, sections, withSection } from './wasm-sections.mjs';

const MEMORY_SECTION = 5;
const IMPORT_SECTION = 2;
const KIND_MEMORY = 2;
const HAS_MAX = 0x01;
const SHARED = 0x02;

/** Limits at `at`: flags, minimum, optional maximum, and where they end. */
function readLimits(bytes, at) {
  const flags = bytes[at];
  const min = readLeb(bytes, at + 1);
  const max = flags & HAS_MAX ? readLeb(bytes, min.at) : undefined;
  return { at, flags, min: min.value, max: max?.value, end: max ? max.at : min.at };
}

/** The memory section and the limits of the one memory it defines. */
function definedMemory(bytes) {
  const section = sections(bytes).find((s) => s.id === MEMORY_SECTION);
  if (!section) throw new Error('the module defines no memory');
  const count = readLeb(bytes, section.payload);
  if (count.value !== 1) throw new Error(`the module defines ${count.value} memories`);
  return { section, limits: readLimits(bytes, count.at) };
}

function sharedLimits(limits, maxPages) {
  const max = limits.max ?? maxPages;
  if (max === undefined) throw new Error('a shared memory needs a maximum size');
  return Buffer.from([HAS_MAX | SHARED, ...leb(limits.min), ...leb(max)]);
}

/**
 * The module with the one memory it defines made shared (it must declare a maximum: a shared
 * memory is reserved whole up front). Throws if it defines none, several, or one already shared.
 */
export function shareDefinedMemory(wasm) {
  const bytes = Buffer.from(wasm);
  const { section, limits } = definedMemory(bytes);
  if (limits.flags & SHARED) throw new Error('its memory is already shared');
  if (limits.flags & ~HAS_MAX) throw new Error(`memory limits flags ${limits.flags} not understood`);
  const payload = Buffer.concat([
    Buffer.from(leb(1)),
    sharedLimits(limits),
    bytes.subarray(limits.end, section.end),
  ]);
  return withSection(bytes, section, payload);
}

/**
 * A side module with its imported memory declared shared, at most `maxPages` (64 KiB pages; the
 * memory it is given may be smaller, not larger). Throws unless it imports exactly one memory.
 */
export function shareImportedMemory(wasm, maxPages) {
  const bytes = Buffer.from(wasm);
  const section = sections(bytes).find((s) => s.id === IMPORT_SECTION);
  if (!section) throw new Error('the module imports nothing');
  const count = readLeb(bytes, section.payload);
  let at = count.at;
  const parts = [Buffer.from(leb(count.value))];
  let copiedTo = at;
  let memories = 0;
  for (let i = 0; i < count.value; i++) {
    for (let name = 0; name < 2; name++) {
      const length = readLeb(bytes, at);
      at = length.at + length.value;
    }
    const kind = bytes[at++];
    if (kind === 0)
      at = readLeb(bytes, at).at; // function: type index
    else if (kind === 1)
      at = readLimits(bytes, at + 1).end; // table: element type, limits
    else if (kind === 3)
      at += 2; // global: value type, mutability
    else if (kind === 4)
      at = readLeb(bytes, at + 1).at; // tag: attribute, type index
    else if (kind === KIND_MEMORY) {
      const limits = readLimits(bytes, at);
      if (limits.flags & SHARED) throw new Error('its memory import is already shared');
      if (limits.flags & ~HAS_MAX) throw new Error(`memory limits flags ${limits.flags} not understood`);
      parts.push(bytes.subarray(copiedTo, at), sharedLimits(limits, maxPages));
      copiedTo = limits.end;
      at = limits.end;
      memories++;
    } else throw new Error(`import kind ${kind} not understood`);
  }
  if (memories !== 1) throw new Error(`the module imports ${memories} memories`);
  parts.push(bytes.subarray(copiedTo, section.end));
  return withSection(bytes, section, Buffer.concat(parts));
}

/**
 * The limits of the one memory a module defines: where they sit (`at`, the flags byte), `flags`,
 * `min` and `max` in 64 KiB pages (`max` undefined when it declares none).
 */
export function definedMemoryLimits(wasm) {
  const { at, flags, min, max } = definedMemory(Buffer.from(wasm)).limits;
  return { at, flags, min, max };
}
