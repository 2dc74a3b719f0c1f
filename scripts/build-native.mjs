#!/usr/bin/env node
// Builds libs/bdv/dist/native/bdv_deflate.node (part of `npm run build`, after `tsc -b`): the
// Node-API binding of libdeflate that compresses and inflates gzip chunks ~1.3-1.8x faster per core
// than Node's zlib (docs/adr/020). It needs a C compiler, Node's headers and libdeflate's
// (Debian: libdeflate-dev; scripts/install-test-deps.sh and the Dockerfile install it). It is an
// optimisation only: without it libs/bdv uses Node's zlib, so a missing piece warns here and
// leaves no binding instead of failing the build. BDV_NATIVE=required (the Dockerfile, CI) makes
// it fail instead.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'libs/bdv/native/bdv_deflate.c');
const outDir = join(root, 'libs/bdv/dist/native');
const output = join(outDir, 'bdv_deflate.node');

/** Where node_api.h is: beside this Node (its prefix), or where npm is told to find Node's headers. */
function nodeIncludeDir() {
  const prefixes = [resolve(dirname(process.execPath), '..'), process.env.npm_config_nodedir].filter(Boolean);
  for (const prefix of prefixes) {
    const dir = join(prefix, 'include', 'node');
    if (existsSync(join(dir, 'node_api.h'))) return dir;
  }
  throw new Error(`Node's headers (include/node/node_api.h) are not under ${prefixes.join(' or ')}`);
}

function build() {
  const compiler = process.env.CC || 'cc';
  const staging = `${output}.${process.pid}`;
  mkdirSync(outDir, { recursive: true });
  try {
    execFileSync(
      compiler,
      [
        '-O2',
        '-std=c11',
        '-fPIC',
        '-shared',
        '-Wall',
        '-Werror',
        `-I${nodeIncludeDir()}`,
        source,
        '-o',
        staging,
        '-ldeflate',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    renameSync(staging, output);
  } finally {
    rmSync(staging, { force: true });
  }
  // Loaded once here: a binding that cannot load (a libdeflate missing at run time) is no binding.
  const binding = loadBinding(output);
  writeFileSync(join(outDir, 'source.json'), `${JSON.stringify({ libdeflate: binding.version }, null, 2)}\n`);
  return binding.version;
}

function loadBinding(path) {
  const module = { exports: {} };
  process.dlopen(module, path);
  return module.exports;
}

try {
  const version = build();
  console.log(`build-native: ${output} (libdeflate ${version})`);
} catch (error) {
  rmSync(output, { force: true });
  rmSync(join(outDir, 'source.json'), { force: true });
  const why = (error.stderr?.toString().trim() || error.message).split('\n').slice(0, 3).join(' | ');
  const message = `build-native: no libdeflate binding, gzip uses Node's zlib (${why})`;
  if (process.env.BDV_NATIVE === 'required') {
    console.error(message);
    process.exit(1);
  }
  console.warn(`${message}; on Debian: apt-get install libdeflate-dev`);
}
