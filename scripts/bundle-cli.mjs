#!/usr/bin/env node
// Bundles the compiled `bdv` CLI (apps/cli/dist) and its writer-thread entry into apps/cli/bundle
// (part of `npm run build`, after `tsc -b`). Why: Node's ESM loader pays per module, and a
// conversion loads ~200 of them (our libraries and zod) in the main thread and again in every
// writer thread; one file per entry starts faster (docs/adr/011-cli-bundle.md).
// The bundle is an optimisation only: apps/cli/bin/bdv.js runs dist/ when it is missing or older
// than the last compile, so a failure here warns and leaves no bundle instead of failing the build.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFolder } from './package-folder.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'apps/cli/bundle');
const MANIFEST = join(out, '.builds.json');

// Inlined: workspace packages and the small pure-JS packages the CLI loads on every start.
// Everything else stays external and is resolved from apps/cli/bundle at run time.
const INLINE = /^(@bdv-cluster\/|zod(\/|$)|commander$|cli-progress$|p-map$|p-limit$|yocto-queue$)/;

const packageName = (id) =>
  id
    .split('/')
    .slice(0, id.startsWith('@') ? 2 : 1)
    .join('/');

/** The files of the last two builds: a running `bdv` may still import a chunk of the previous one. */
function keptFiles() {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8')).current ?? [];
  } catch {
    return [];
  }
}

async function bundle() {
  const { build } = await import('rolldown');
  const externals = new Map(); // package name -> folders of the modules importing it
  const previous = keptFiles();
  const result = await build({
    input: {
      bdv: join(root, 'apps/cli/dist/main.js'),
      // ViewThreadPool starts `./view-thread.js` beside its own module: entries and chunks share
      // one folder, so that path resolves to this entry from whichever chunk holds the pool.
      'view-thread': join(root, 'libs/convert/dist/view-thread.js'),
      // The same for the HDF5 writer's flush thread (libs/bdv/src/h5/flush-thread.ts).
      'flush-thread-entry': join(root, 'libs/bdv/dist/h5/flush-thread-entry.js'),
      // And for its checksum thread (libs/bdv/src/h5/checksum-thread.ts).
      'checksum-thread-entry': join(root, 'libs/bdv/dist/h5/checksum-thread-entry.js'),
    },
    platform: 'node',
    external: (id, importer) => {
      const external =
        !id.startsWith('.') && !id.startsWith('/') && importer !== undefined && !INLINE.test(id);
      if (external && !id.startsWith('node:')) {
        const name = packageName(id);
        if (!externals.has(name)) externals.set(name, new Set());
        externals.get(name).add(dirname(importer));
      }
      return external;
    },
    logLevel: 'warn',
    output: {
      dir: out,
      format: 'esm',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
      sourcemap: true,
    },
  });
  // An external is imported from the bundle's folder, not from the package that imported it: both
  // must find the same copy (npm may nest a second version under one workspace package).
  for (const [name, importers] of externals) {
    const fromBundle = packageFolder(name, out);
    for (const dir of importers) {
      const fromImporter = packageFolder(name, dir);
      if (fromImporter !== fromBundle)
        throw new Error(
          `${name}: ${dir} uses ${fromImporter}, the bundle would load ${fromBundle ?? 'nothing'}`,
        );
    }
  }
  const current = [...new Set([...result.output.map((o) => o.fileName), 'package.json'])];
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }, null, 2) + '\n');
  const keep = new Set([...current, ...previous, '.builds.json']);
  for (const file of readdirSync(out)) if (!keep.has(file)) rmSync(join(out, file), { force: true });
  writeFileSync(MANIFEST, JSON.stringify({ current, previous }) + '\n');
}

try {
  await bundle();
} catch (error) {
  rmSync(out, { recursive: true, force: true });
  console.error(
    `bundle-cli: no bundle (${error instanceof Error ? error.message : error}); bdv runs from apps/cli/dist, only slower to start`,
  );
}
