import h5wasm from 'h5wasm/node';
import { install_local_plugins } from 'h5wasm-plugins';
import { fileURLToPath } from 'node:url';

export type H5Module = Awaited<typeof h5wasm.ready>;
export { h5wasm };

let loaded: Promise<H5Module> | undefined;

/**
 * Our own filter plugins (libs/bdv/plugins, built from libs/bdv/plugins-src): the optional LZF
 * filter that stores a chunk which does not compress unfiltered, as h5py does. Same relative path
 * from src/h5 and dist/h5. HDF5 tries every file of a plugin folder: it holds only the .so.
 */
export const PLUGIN_DIR = fileURLToPath(new URL('../../plugins', import.meta.url));

/**
 * The wasm HDF5 library of this thread, with the filter plugins (LZF = 32000) on its search path.
 * h5wasm is a per-thread singleton: each worker thread that imports this gets its own heap.
 */
export function loadH5(): Promise<H5Module> {
  loaded ??= h5wasm.ready.then((module) => {
    install_local_plugins(module);
    // Searched first, so HDF5 takes our LZF (id 32000) before h5wasm-plugins' mandatory-only one.
    module.insert_plugin_search_path(PLUGIN_DIR, 0);
    // Without this, many HDF5 failures only print a diagnostic and return a null handle.
    module.activate_throwing_error_handler();
    return module;
  });
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
