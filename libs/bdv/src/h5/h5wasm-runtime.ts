import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { adviseHugePages } from './huge-pages.js';
import { withHostDeflateFailure } from './host-deflate.js';
import { heapIsShared, readyH5wasm } from './prepared-h5wasm.js';

/** h5wasm's API (File, Group, Dataset…); loaded on first use, never at import time. */
export type H5Api = (typeof import('h5wasm/node'))['default'];
export type H5Module = Awaited<H5Api['ready']>;
export type H5ExternalLink = (typeof import('h5wasm/node'))['ExternalLink'];

/** HDF5 of this thread: the API classes and the wasm module behind them. */
export interface H5Runtime {
  api: H5Api;
  module: H5Module;
  ExternalLink: H5ExternalLink;
}

let loaded: Promise<H5Runtime> | undefined;

/**
 * V8's budget before a wasm function is recompiled by its optimizing compiler, 100x its default
 * (1.8M, "rough bytes executed"). HDF5's start-up (its type-conversion table, ~50 ms of wasm in
 * every process and thread) makes dozens of large functions hot that never run again: their
 * recompilation took the other core, and a process's exit waited for it. Functions that do the
 * work (a chunk's gather, LZF) still reach the budget within a chunk or two. Measured 2026-11-27
 * (8 alternating runs): a tiny `bdv convert` 289 ms against 317 ms; 512 MiB uncompressed and LZF
 * unchanged within noise (748 against 754 ms; 2.90 against 2.95 s). A process-wide flag, read when
 * a module is instantiated: set before each thread's first.
 */
const WASM_TIERING_BUDGET = 180_000_000;
let budgetSet = false;

/** Once per process, and only on a V8 that has the flag (an unknown one prints to stderr). */
function raiseWasmTieringBudget(): void {
  if (budgetSet) return;
  budgetSet = true;
  const major = Number(process.versions.v8.split('.')[0]);
  // The flag of V8 11-13 (Node 20-24); another V8 keeps its default rather than risk a stray one.
  if (major >= 11 && major <= 13) {
    setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
  }
}

/**
 * Our own filter plugins (libs/bdv/plugins, built from libs/bdv/plugins-src): the optional LZF
 * filter that stores a chunk which does not compress unfiltered, as h5py does. Found through the
 * package, not beside this module: the CLI's bundle (scripts/bundle-cli.mjs) runs this code from
 * apps/cli/bundle. HDF5 tries every file of a plugin folder: it holds only the .so.
 */
const pluginDir = (): string =>
  join(dirname(createRequire(import.meta.url).resolve('@bdv-cluster/bdv/package.json')), 'plugins');

/**
 * The wasm HDF5 library of this thread, with the filter plugins (LZF = 32000) on its search path.
 * h5wasm is a per-thread singleton: each worker thread that loads it gets its own heap. Loaded
 * on first use, so processes that never touch a file (the API, `bdv --help`) never pay for it.
 */
export function loadH5(): Promise<H5Runtime> {
  loaded ??= (async () => {
    raiseWasmTieringBudget();
    const { exports, module, sharedPluginFolders, maxHeapBytes } = await readyH5wasm();
    const { default: api, ExternalLink } = exports;
    // Before HDF5 touches more of its heap than its start-up did: pages faulted in later come huge.
    adviseHugePages(module.HEAPU8, maxHeapBytes ?? module.HEAPU8.length);
    if (heapIsShared(module) && sharedPluginFolders.length > 0) {
      // A plugin must import the memory as shared as it is: the build's rewritten copies.
      for (const folder of [...sharedPluginFolders].reverse()) module.insert_plugin_search_path(folder, 0);
    } else {
      // A private heap (or, should h5wasm ever ship a shared one, a heap the build left as it was).
      (await import('h5wasm-plugins')).install_local_plugins(module);
      // Searched first, so HDF5 takes our LZF (id 32000) before h5wasm-plugins' mandatory-only one.
      module.insert_plugin_search_path(pluginDir(), 0);
    }
    // Without this, many HDF5 failures only print a diagnostic and return a null handle.
    module.activate_throwing_error_handler();
    return { api, module, ExternalLink };
  })();
  return loaded;
}

/**
 * The first useful line of an HDF5 diagnostic stack, for error messages a person can read; with
 * the cause when our gzip filter failed (HDF5 itself only says the filter returned failure).
 */
export function summarizeHdf5Error(error: unknown): string {
  return withHostDeflateFailure(firstHdf5Line(error)) + environmentHint(error);
}

/**
 * The variables by which HDF5 loads a driver, connector or plugin as it initialises: one meant for
 * another program (HDF5_DRIVER=… for h5py, say; this build lacks most drivers) makes
 * initialisation fail, and the next call then traps in wasm ("memory access out of bounds") after
 * HDF5 printed its diagnostic stack.
 */
const STARTUP_VARIABLES = [
  'HDF5_DRIVER',
  'HDF5_DRIVER_CONFIG',
  'HDF5_PLUGIN_PATH',
  'HDF5_PLUGIN_PRELOAD',
  'HDF5_VOL_CONNECTOR',
];

/**
 * Such a trap, or HDF5's own "library initialization failed", names those of them that are set
 * (names only: values may hold paths or credentials, and the cluster's failure reasons are read
 * through its API).
 */
function environmentHint(error: unknown): string {
  const failedStart =
    (error instanceof Error && error.name === 'RuntimeError') ||
    /library initiali[sz]ation failed/.test(String(error));
  const set = STARTUP_VARIABLES.filter((name) => process.env[name] !== undefined);
  if (!failedStart || set.length === 0) return '';
  const it = set.length > 1 ? 'them' : 'it';
  return ` (${set.join(', ')} set: HDF5 reads ${it} when it starts; if meant for another program, unset ${it} for bdv)`;
}

function firstHdf5Line(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const firstCall = /#000: .* in (\w+\(\)): (.*)/.exec(text);
  const minors = [...text.matchAll(/minor: (.*)/g)].map((m) => m[1]!.trim());
  if (!firstCall) return text.split('\n')[0] ?? text;
  const cause = minors.at(-1);
  return `${firstCall[1]} ${firstCall[2]}${cause ? ` (${cause})` : ''}`;
}
