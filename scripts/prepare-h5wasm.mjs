#!/usr/bin/env node
// Writes libs/bdv/dist/h5wasm: h5wasm's Node build with its WebAssembly in a file of its own
// (part of `npm run build`, after `tsc -b`). Why: h5wasm ships the 3.5 MB module as a string
// literal inside a 4.2 MB JavaScript file, so every process and every writer thread that loads
// HDF5 first parses that string, decodes it as UTF-8, turns it back into bytes character by
// character and collects the garbage — ~100 ms of a 2-core machine's start-up, more than the
// compile of the module itself (measured: import + ready 240 -> 140 ms; docs/adr/014).
// On the way, the module's gzip writes are routed to Node's zlib (route-deflate-to-node.mjs,
// docs/adr/018): ~1.4x faster per core than the zlib compiled into it (measured on 512 MiB);
// and its memory is made shared, with copies of the filter plugins that import it (share-wasm-
// memory.mjs, docs/adr/019): a helper thread then checksums slabs in the heap as HDF5 writes them.
// The copy is an optimisation only: libs/bdv's h5wasm-runtime.ts loads it when it was made from
// the h5wasm that is installed (same version, same file size) and `h5wasm/node` otherwise, so a
// failure here warns and leaves no copy instead of failing the build.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embeddedModule } from './h5wasm-embedded-module.mjs';
import {
  captureHeapImage,
  heapBaseOf,
  STARTED_DIFFERENCES,
  startedDifferences,
  withHeapImage,
} from './heap-image.mjs';
import { packageFolder } from './package-folder.mjs';
import { glueWithHostDeflate, routeDeflateToHost } from './route-deflate-to-node.mjs';
import { definedMemoryLimits, shareDefinedMemory, shareImportedMemory } from './share-wasm-memory.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'libs/bdv/dist/h5wasm');

async function prepare() {
  const pkg = packageFolder('h5wasm', join(root, 'libs/bdv'));
  if (!pkg) throw new Error('h5wasm is not installed');
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  const from = join(pkg, 'dist/node');
  const utilPath = join(from, 'hdf5_util.js');
  const util = readFileSync(utilPath, 'utf8');
  const { wasm, callStart, callEnd } = embeddedModule(util, utilPath);
  const load = "__bdvReadWasm(new URL('./hdf5_util.wasm', import.meta.url))";
  const fromFile =
    "import { readFileSync as __bdvReadWasm } from 'node:fs';\n" +
    util.slice(0, callStart) +
    load +
    util.slice(callEnd);
  const routed = await withHostDeflate(wasm, fromFile);
  const { glue: patched, deflate } = routed;
  const { wasm: module, plugins, memory } = withSharedMemory(routed.wasm);

  const staging = `${out}.${process.pid}`;
  const retired = `${out}.${process.pid}.old`;
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    copyFileSync(join(from, 'hdf5_hl.js'), join(staging, 'hdf5_hl.js'));
    writeFileSync(join(staging, 'hdf5_util.js'), patched);
    writeFileSync(join(staging, 'hdf5_util.wasm'), module);
    for (const { folder, name, bytes } of plugins) {
      mkdirSync(join(staging, folder), { recursive: true });
      writeFileSync(join(staging, folder, name), bytes);
    }
    const heapImage = await withInitialisedHeap(staging, module);
    const source = {
      h5wasm: version,
      utilBytes: statSync(utilPath).size,
      hlBytes: statSync(join(from, 'hdf5_hl.js')).size,
      wasmBytes: module.length,
      wasmSha256: createHash('sha256').update(module).digest('hex'),
      deflate,
      memory,
      maxMemoryBytes: maxMemoryBytes(module),
      pluginFolders: [...new Set(plugins.map((p) => p.folder))],
      heapImage,
    };
    writeFileSync(join(staging, 'source.json'), JSON.stringify(source, null, 2) + '\n');
    // Swapped by two renames: a process loading HDF5 meanwhile finds the old copy or the new one
    // whole (or, between the renames, none: it loads h5wasm itself), never a half-deleted folder.
    if (existsSync(out)) renameSync(out, retired);
    renameSync(staging, out);
    return source;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(retired, { recursive: true, force: true });
  }
}

/**
 * The most the module's memory can grow to, in bytes (libs/bdv advises huge pages over all of it:
 * docs/adr/021), or undefined when it declares no maximum or cannot be read here.
 */
function maxMemoryBytes(wasm) {
  try {
    const { max } = definedMemoryLimits(wasm);
    return max === undefined ? undefined : max * 65536;
  } catch {
    return undefined;
  }
}

/**
 * Beside the copy in `staging`, a second one whose module starts with HDF5 already initialised
 * (heap-image.mjs, docs/adr/026): hdf5_hl.initialised.js → hdf5_util.initialised.js →
 * hdf5_util.initialised.wasm, the same code with other data segments. What source.json records
 * of it, or undefined when it cannot be made here: every start then initialises HDF5, ~40 ms slower.
 */
async function withInitialisedHeap(staging, module) {
  const names = {
    hl: 'hdf5_hl.initialised.js',
    glue: 'hdf5_util.initialised.js',
    wasm: 'hdf5_util.initialised.wasm',
  };
  try {
    const image = captureHeapImage(join(staging, 'hdf5_hl.js'), definedMemoryLimits(module).min * 65536);
    const wasm = withHeapImage(module, image);
    const glue = replacedOnce(
      readFileSync(join(staging, 'hdf5_util.js'), 'utf8'),
      "new URL('./hdf5_util.wasm', import.meta.url)",
      `new URL('./${names.wasm}', import.meta.url)`,
    );
    const hl = replacedOnce(
      readFileSync(join(staging, 'hdf5_hl.js'), 'utf8'),
      "from './hdf5_util.js'",
      `from './${names.glue}'`,
    );
    writeFileSync(join(staging, names.wasm), wasm);
    writeFileSync(join(staging, names.glue), glue);
    writeFileSync(join(staging, names.hl), hl);
    const differing = startedDifferences(image, join(staging, names.hl), await heapBaseOf(module));
    if (differing.length > STARTED_DIFFERENCES) {
      throw new Error(
        `started, the twin's static data differs from the plain copy's in ${differing.length} words (at most ${STARTED_DIFFERENCES} expected: ${differing.join(', ')})`,
      );
    }
    return {
      ...names,
      bytes: { hl: Buffer.byteLength(hl), glue: Buffer.byteLength(glue), wasm: wasm.length },
      imageBytes: image.length,
      startedDifferences: differing.length,
    };
  } catch (error) {
    for (const name of Object.values(names)) rmSync(join(staging, name), { force: true });
    console.error(
      `prepare-h5wasm: HDF5 initialises at every start, ~40 ms slower (${error instanceof Error ? error.message : error})`,
    );
    return undefined;
  }
}

function replacedOnce(text, from, to) {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`expected one ${from} in h5wasm's code, found ${parts.length - 1}`);
  return parts.join(to);
}

/**
 * The module and glue with gzip writes routed to Node's zlib (route-deflate-to-node.mjs), or
 * both as they were when that cannot be done here: gzip then runs in wasm zlib, slower only.
 */
async function withHostDeflate(wasm, glue) {
  const hostDeflate = join(root, 'libs/bdv/dist/h5/host-deflate.js');
  try {
    if (!existsSync(hostDeflate)) throw new Error(`${hostDeflate} is not built`);
    return {
      wasm: await routeDeflateToHost(wasm),
      glue: glueWithHostDeflate(glue, '../h5/host-deflate.js'),
      deflate: 'node-zlib',
    };
  } catch (error) {
    console.error(
      `prepare-h5wasm: gzip stays in h5wasm's own zlib, ~1.4x slower (${error instanceof Error ? error.message : error})`,
    );
    return { wasm, glue, deflate: 'wasm' };
  }
}

/**
 * Plugin folders of the shared-memory copy, in HDF5's search order: ours first (our LZF, id 32000,
 * must win over h5wasm-plugins' mandatory-only one), then h5wasm-plugins'.
 */
function pluginSources() {
  const plugins = packageFolder('h5wasm-plugins', join(root, 'libs/bdv'));
  if (!plugins) throw new Error('h5wasm-plugins is not installed');
  return [
    { folder: 'plugins-bdv', from: join(root, 'libs/bdv/plugins') },
    { folder: 'plugins-h5wasm', from: join(plugins, 'plugins') },
  ];
}

/**
 * The module with its memory shared and every filter plugin rewritten to import it shared, or the
 * module as it was and no plugins when that cannot be done here: the checksum of level 0 then
 * runs on the writing thread, slower only.
 */
function withSharedMemory(wasm) {
  try {
    const maxPages = definedMemoryLimits(wasm).max;
    const plugins = [];
    for (const { folder, from } of pluginSources()) {
      for (const name of readdirSync(from)
        .filter((n) => n.endsWith('.so'))
        .sort()) {
        plugins.push({ folder, name, bytes: shareImportedMemory(readFileSync(join(from, name)), maxPages) });
      }
    }
    const shared = shareDefinedMemory(wasm);
    for (const bytes of [shared, ...plugins.map((p) => p.bytes)]) {
      if (!WebAssembly.validate(bytes)) throw new Error('a rewritten module does not validate');
    }
    return { wasm: shared, plugins, memory: 'shared' };
  } catch (error) {
    console.error(
      `prepare-h5wasm: HDF5's memory stays private, level 0 is checksummed on the writing thread (${error instanceof Error ? error.message : error})`,
    );
    return { wasm, plugins: [], memory: 'private' };
  }
}

try {
  await prepare();
} catch (error) {
  // A copy already there is left: loadH5 checks it against the installed h5wasm before use (and
  // it may be another build's, made at the same moment).
  console.error(
    `prepare-h5wasm: no copy (${error instanceof Error ? error.message : error}); HDF5 loads from h5wasm itself, only slower to start (unless an earlier copy still matches)`,
  );
}
