import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type H5wasmNode = typeof import('h5wasm/node');
type H5wasmModule = Awaited<H5wasmNode['default']['ready']>;

/** What scripts/prepare-h5wasm.mjs records of the h5wasm it copied, and of its copy. */
export interface PreparedSource {
  h5wasm?: string;
  utilBytes?: number;
  hlBytes?: number;
  wasmBytes?: number;
  /** 'shared' when the module's memory was made shared (docs/adr/019). */
  memory?: string;
  /** The most the module's memory can grow to (its declared maximum). */
  maxMemoryBytes?: number;
  /** Filter plugins rewritten to import the shared memory: folders beside the copy, in search order. */
  pluginFolders?: string[];
  /** The second copy, whose module starts with HDF5 initialised (docs/adr/026): its files and sizes. */
  heapImage?: {
    hl?: string;
    glue?: string;
    wasm?: string;
    bytes?: { hl?: number; glue?: number; wasm?: number };
  };
}

/**
 * `BDV_H5WASM=package` loads HDF5 from h5wasm itself, as when the prepared copy is unusable: a
 * private heap, wasm zlib for gzip, the package's plugins. For telling a fault of the copy from
 * one of HDF5, and for testing that fallback.
 */
const USE_PACKAGE = 'package';

/**
 * `BDV_H5WASM=no-heap-image` loads the prepared copy whose HDF5 initialises as it starts, as
 * h5wasm's does, instead of the one initialised by the build (docs/adr/026): for measuring what
 * the image saves, and for telling a fault of the image from one of the copy.
 */
const NO_HEAP_IMAGE = 'no-heap-image';

/**
 * h5wasm's Node build with its WebAssembly in a file of its own (scripts/prepare-h5wasm.mjs, run
 * by the build): the same code, ~100 ms faster to load, because h5wasm embeds the module as a
 * 4 MB string that every process and thread would otherwise parse and decode (docs/adr/014).
 * Its URL only if it was made from the h5wasm installed beside us (version and file sizes) and
 * its .wasm is whole, and BDV_H5WASM does not ask for the package's; undefined otherwise.
 */
export function preparedH5wasm(): string | undefined {
  if (process.env.BDV_H5WASM === USE_PACKAGE) return undefined;
  try {
    const dir = join(
      dirname(createRequire(import.meta.url).resolve('@bdv-cluster/bdv/package.json')),
      'dist',
      'h5wasm',
    );
    const made = JSON.parse(readFileSync(join(dir, 'source.json'), 'utf8')) as PreparedSource;
    const installed = h5wasmFolder();
    const version = (
      JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version?: string }
    ).version;
    const size = (path: string) => statSync(path).size;
    const matches =
      made.h5wasm === version &&
      made.utilBytes === size(join(installed, 'dist', 'node', 'hdf5_util.js')) &&
      made.hlBytes === size(join(installed, 'dist', 'node', 'hdf5_hl.js')) &&
      made.wasmBytes === size(join(dir, 'hdf5_util.wasm'));
    return matches ? pathToFileURL(join(dir, 'hdf5_hl.js')).href : undefined;
  } catch {
    return undefined;
  }
}

/** The folder of the h5wasm package this module resolves (its exports hide package.json). */
function h5wasmFolder(): string {
  for (const dir of createRequire(import.meta.url).resolve.paths('h5wasm') ?? []) {
    if (existsSync(join(dir, 'h5wasm', 'package.json'))) return join(dir, 'h5wasm');
  }
  throw new Error('h5wasm is not installed');
}

/**
 * h5wasm's exports with its module ready: from the prepared copy when it is usable, else — also
 * when the copy fails to load after all (replaced by a build at that moment, damaged on disk) —
 * from the package itself, which is always there. One of the two per thread, never both ready.
 */
export async function readyH5wasm(): Promise<ReadyH5wasm> {
  const prepared = preparedH5wasm();
  if (prepared) {
    try {
      // Read before the import: a failure after it would make this thread load HDF5 twice.
      const made = recorded(prepared);
      const sharedPluginFolders = pluginFolders(prepared, made);
      const twin = initialisedCopy(prepared, made);
      const exports = (twin && (await importedTwin(twin))) || ((await import(prepared)) as H5wasmNode);
      return {
        exports,
        module: await exports.default.ready,
        sharedPluginFolders,
        maxHeapBytes: made.maxMemoryBytes,
      };
    } catch (error) {
      // The package's own module works, only slower (start-up, and gzip in wasm zlib): say so.
      process.emitWarning(
        `HDF5 loads from h5wasm itself: its prepared copy failed to load (${error instanceof Error ? error.message : error})`,
        { code: 'BDV_H5WASM_COPY' },
      );
    }
  }
  const exports = await import('h5wasm/node');
  return { exports, module: await exports.default.ready, sharedPluginFolders: [] };
}

export interface ReadyH5wasm {
  exports: H5wasmNode;
  module: H5wasmModule;
  /**
   * The copy's filter plugins, rewritten to import a shared memory (absolute folders, searched in
   * this order); the only ones a module with a shared heap can load (see heapIsShared).
   */
  sharedPluginFolders: string[];
  /** The most the heap can grow to, where known (the prepared copy records it). */
  maxHeapBytes?: number;
}

/**
 * `HDF5_*` variables that may be set without giving up the twin. `HDF5_USE_FILE_LOCKING`, often
 * exported on NFS and Lustre clients: file locks do nothing in this wasm build (its libc has no
 * `flock` to call), so when HDF5 reads it changes nothing.
 */
const TWIN_KEEPING_VARIABLES = new Set(['HDF5_USE_FILE_LOCKING']);

/**
 * The URL of the prepared copy's twin whose heap starts with HDF5 initialised (docs/adr/026), where
 * the build made it, its module is whole, and this process may use it: HDF5 reads its `HDF5_*`
 * environment variables (driver, VOL connector, debug…) as it initialises, and the build initialised
 * it with none, so where any is set HDF5 initialises here, reading them. Undefined otherwise.
 */
export function initialisedCopy(
  hlUrl: string,
  made: PreparedSource,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const image = made.heapImage;
  if (!image?.hl || !image.glue || !image.wasm || env.BDV_H5WASM === NO_HEAP_IMAGE) return undefined;
  if (Object.keys(env).some((name) => name.startsWith('HDF5_') && !TWIN_KEEPING_VARIABLES.has(name))) {
    return undefined;
  }
  try {
    for (const part of ['hl', 'glue', 'wasm'] as const) {
      if (statSync(new URL(image[part]!, hlUrl)).size !== image.bytes?.[part]) return undefined;
    }
    return new URL(image.hl, hlUrl).href;
  } catch {
    return undefined;
  }
}

/**
 * The twin's exports with its module ready, or undefined when it fails to load (damaged since the
 * build): the plain copy beside it is then loaded, as fast as before ADR 026, instead of h5wasm's
 * own module, with a warning.
 */
async function importedTwin(url: string): Promise<H5wasmNode | undefined> {
  try {
    const exports = (await import(url)) as H5wasmNode;
    await exports.default.ready;
    return exports;
  } catch (error) {
    process.emitWarning(
      `HDF5 initialises as it starts: the copy the build initialised failed to load (${error instanceof Error ? error.message : error})`,
      { code: 'BDV_H5WASM_HEAP_IMAGE' },
    );
    return undefined;
  }
}

/** What the build recorded beside the prepared copy at `hlUrl`. */
function recorded(hlUrl: string): PreparedSource {
  return JSON.parse(readFileSync(new URL('source.json', hlUrl), 'utf8')) as PreparedSource;
}

/** The plugin folders recorded beside the prepared copy at `hlUrl`, if its memory is shared. */
function pluginFolders(hlUrl: string, made: PreparedSource): string[] {
  if (made.memory !== 'shared') return [];
  return (made.pluginFolders ?? []).map((folder) => fileURLToPath(new URL(`${folder}/`, hlUrl)));
}

/** True when the module's heap is a SharedArrayBuffer: other threads can read it (docs/adr/019). */
export function heapIsShared(module: { HEAPU8: Uint8Array }): boolean {
  return module.HEAPU8.buffer instanceof SharedArrayBuffer;
}
