#!/usr/bin/env node
// Builds libs/bdv's Node-API bindings into libs/bdv/dist/native (part of `npm run build`, after
// `tsc -b`):
//   - bdv_deflate.node: libdeflate, which compresses and inflates gzip chunks ~1.3-1.8x faster per
//     core than Node's zlib, and computes CRC-32 (docs/adr/020); needs libdeflate's headers
//     (Debian: libdeflate-dev);
//   - bdv_memory.node: asks Linux for huge pages under each HDF5 heap (docs/adr/021), copies
//     an inflated chunk into its verification slab in one call (docs/adr/022), and maps a local
//     input's slabs into the heap instead of reading them (docs/adr/024), and drops an output's
//     pages from the page cache once they are on disk (docs/adr/027);
//   - bdv_pyramid.node: the streaming pyramid's block sums and means (docs/adr/031).
// All need a C compiler and Node's headers (scripts/install-test-deps.sh and the Dockerfile
// install them). Each is an optimisation only: without it libs/bdv does the same work the slower
// way, so a missing piece warns here and leaves that binding out instead of failing the build.
// BDV_NATIVE=required (the Dockerfile) makes it fail instead.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'libs/bdv/dist/native');

const BINDINGS = [
  {
    name: 'bdv_deflate',
    libraries: ['-ldeflate'],
    describe: (binding) => `libdeflate ${binding.version}`,
    without: "gzip uses Node's zlib",
    hint: 'apt-get install libdeflate-dev',
  },
  {
    name: 'bdv_memory',
    libraries: [],
    describe: () => 'huge-page advice, block copy, input mapping, page dropping',
    without:
      'HDF5 heaps get no huge-page advice; verification places chunks row by row; inputs are read, not mapped; pages stay cached',
    hint: 'apt-get install gcc libc6-dev',
  },
  {
    name: 'bdv_pyramid',
    libraries: ['-lm'],
    // -O3: GCC 12 vectorises these loops only there (-O2 measured 1.3-1.7x slower, docs/adr/031).
    optimise: '-O3',
    describe: () => "the pyramid's block sums",
    without: "the pyramid's block sums run in TypeScript",
    hint: 'apt-get install gcc libc6-dev',
  },
];

/** Where node_api.h is: beside this Node (its prefix), or where npm is told to find Node's headers. */
function nodeIncludeDir() {
  const prefixes = [resolve(dirname(process.execPath), '..'), process.env.npm_config_nodedir].filter(Boolean);
  for (const prefix of prefixes) {
    const dir = join(prefix, 'include', 'node');
    if (existsSync(join(dir, 'node_api.h'))) return dir;
  }
  throw new Error(`Node's headers (include/node/node_api.h) are not under ${prefixes.join(' or ')}`);
}

/** Compiles one binding and loads it once: a binding that cannot load here is no binding. */
function build({ name, libraries, optimise = '-O2' }) {
  const output = join(outDir, `${name}.node`);
  const staging = `${output}.${process.pid}`;
  mkdirSync(outDir, { recursive: true });
  try {
    execFileSync(
      process.env.CC || 'cc',
      [
        optimise,
        '-std=c11',
        '-fPIC',
        '-shared',
        '-Wall',
        '-Werror',
        `-I${nodeIncludeDir()}`,
        join(root, 'libs/bdv/native', `${name}.c`),
        '-o',
        staging,
        ...libraries,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    renameSync(staging, output);
    return { output, binding: loadBinding(output) };
  } catch (error) {
    rmSync(output, { force: true });
    throw error;
  } finally {
    rmSync(staging, { force: true });
  }
}

function loadBinding(path) {
  const module = { exports: {} };
  process.dlopen(module, path);
  return module.exports;
}

const built = {};
let failed = false;
for (const spec of BINDINGS) {
  try {
    const { output, binding } = build(spec);
    built[spec.name] = spec.describe(binding);
    console.log(`build-native: ${output} (${spec.describe(binding)})`);
  } catch (error) {
    const why = (error.stderr?.toString().trim() || error.message).split('\n').slice(0, 3).join(' | ');
    const message = `build-native: no ${spec.name} binding, ${spec.without} (${why})`;
    if (process.env.BDV_NATIVE === 'required') {
      console.error(message);
      failed = true;
    } else {
      console.warn(`${message}; on Debian: ${spec.hint}`);
    }
  }
}
// What was built, for a person reading the folder (libs/bdv loads each binding that is there).
writeFileSync(join(outDir, 'source.json'), `${JSON.stringify(built, null, 2)}\n`);
if (failed) process.exit(1);
