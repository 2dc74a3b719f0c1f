#!/usr/bin/env node
// Bundles the compiled `bdv` CLI (apps/cli/dist) and its writer-thread entry into apps/cli/bundle
// (part of `npm run build`, after `tsc -b`). Why: Node's ESM loader pays per module, and a
// conversion loads ~200 of them (our libraries and zod) in the main thread and again in every
// writer thread; one file per entry starts faster (docs/adr/011-cli-bundle.md). Packages that
// find files beside themselves (h5wasm's wasm, the AWS SDK, geotiff's decoders) stay external and
// load from node_modules as before. apps/cli/bin/bdv.js falls back to dist/ when the bundle is
// missing or older than the last compile.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'apps/cli/bundle');

// Bundled: workspace packages and the small pure-JS packages the CLI loads on every start.
const INLINE = /^(@bdv-cluster\/|zod(\/|$)|commander$|cli-progress$|p-map$|p-limit$|yocto-queue$)/;

rmSync(out, { recursive: true, force: true });
await build({
  input: {
    bdv: join(root, 'apps/cli/dist/main.js'),
    // ViewThreadPool starts `./view-thread.js` beside its own module: entries and chunks share
    // one folder, so that path resolves to this entry from whichever chunk holds the pool.
    'view-thread': join(root, 'libs/convert/dist/view-thread.js'),
  },
  platform: 'node',
  external: (id, importer) =>
    !id.startsWith('.') && !id.startsWith('/') && importer !== undefined && !INLINE.test(id),
  logLevel: 'warn',
  output: {
    dir: out,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: true,
  },
});
writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }, null, 2) + '\n');
