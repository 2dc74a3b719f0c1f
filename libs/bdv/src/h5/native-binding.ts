import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** This thread's bindings by name, loaded or found missing: each is looked for once. */
const bindings = new Map<string, unknown>();

/**
 * One of libs/bdv's Node-API bindings (libs/bdv/native/NAME.c, built by scripts/build-native.mjs
 * into dist/native), or undefined: not built (no compiler or headers at build time), or it fails
 * to load here — said once as a warning `code` (`without` says what is done instead). Each is an
 * optimisation with a slower path beside it, so a missing one never stops the work. Looked for
 * once per thread; later calls cost a map lookup.
 */
export function loadNativeBinding<T>(name: string, code: string, without: string): T | undefined {
  if (!bindings.has(name)) bindings.set(name, load(name, code, without));
  return bindings.get(name) as T | undefined;
}

/** Found through the package, not beside this module: the CLI's bundle runs this code from apps/cli/bundle. */
function load(name: string, code: string, without: string): unknown {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = join(dirname(require.resolve('@bdv-cluster/bdv/package.json')), 'dist', 'native', `${name}.node`);
  } catch {
    return undefined;
  }
  if (!existsSync(path)) return undefined;
  try {
    return require(path) as unknown;
  } catch (error) {
    // Built, but it cannot load here (a library uninstalled since, another Node): say so once.
    process.emitWarning(
      `${without}: the ${name} binding failed to load (${error instanceof Error ? error.message : error})`,
      { code },
    );
    return undefined;
  }
}
