import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

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
 * Our own filter plugins (libs/bdv/plugins, built from libs/bdv/plugins-src): the optional LZF
 * filter that stores a chunk which does not compress unfiltered, as h5py does. Found through the
 * package, not beside this module: the CLI's bundle (scripts/bundle-cli.mjs) runs this code from
 * apps/cli/bundle. HDF5 tries every file of a plugin folder: it holds only the .so.
 */
const pluginDir = (): string => join(bdvPackageDir(), 'plugins');

const bdvPackageDir = (): string =>
  dirname(createRequire(import.meta.url).resolve('@bdv-cluster/bdv/package.json'));

/**
 * h5wasm's Node build with its WebAssembly in a file of its own (scripts/prepare-h5wasm.mjs, run
 * by the build): the same code, ~100 ms faster to load, because h5wasm embeds the module as a
 * 4 MB string that every process and thread would otherwise parse and decode (docs/adr/014).
 * Used only if it was made from the h5wasm installed beside us; h5wasm itself otherwise.
 */
export function preparedH5wasm(): string | undefined {
  try {
    const dir = join(bdvPackageDir(), 'dist', 'h5wasm');
    const made = JSON.parse(readFileSync(join(dir, 'source.json'), 'utf8')) as {
      h5wasm?: string;
      utilBytes?: number;
    };
    const installed = h5wasmFolder();
    const version = (
      JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version?: string }
    ).version;
    const utilBytes = statSync(join(installed, 'dist', 'node', 'hdf5_util.js')).size;
    if (made.h5wasm !== version || made.utilBytes !== utilBytes) return undefined;
    return pathToFileURL(join(dir, 'hdf5_hl.js')).href;
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

function importH5wasm(): Promise<typeof import('h5wasm/node')> {
  const prepared = preparedH5wasm();
  return prepared ? (import(prepared) as Promise<typeof import('h5wasm/node')>) : import('h5wasm/node');
}

/**
 * The wasm HDF5 library of this thread, with the filter plugins (LZF = 32000) on its search path.
 * h5wasm is a per-thread singleton: each worker thread that loads it gets its own heap. Loaded
 * on first use, so processes that never touch a file (the API, `bdv --help`) never pay for it.
 */
export function loadH5(): Promise<H5Runtime> {
  loaded ??= (async () => {
    const [{ default: api, ExternalLink }, { install_local_plugins }] = await Promise.all([
      importH5wasm(),
      import('h5wasm-plugins'),
    ]);
    const module = await api.ready;
    install_local_plugins(module);
    // Searched first, so HDF5 takes our LZF (id 32000) before h5wasm-plugins' mandatory-only one.
    module.insert_plugin_search_path(pluginDir(), 0);
    // Without this, many HDF5 failures only print a diagnostic and return a null handle.
    module.activate_throwing_error_handler();
    return { api, module, ExternalLink };
  })();
  return loaded;
}

/** The first useful line of an HDF5 diagnostic stack, for error messages a person can read. */
export function summarizeHdf5Error(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const firstCall = /#000: .* in (\w+\(\)): (.*)/.exec(text);
  const minors = [...text.matchAll(/minor: (.*)/g)].map((m) => m[1]!.trim());
  if (!firstCall) return text.split('\n')[0] ?? text;
  const cause = minors.at(-1);
  return `${firstCall[1]} ${firstCall[2]}${cause ? ` (${cause})` : ''}`;
}
