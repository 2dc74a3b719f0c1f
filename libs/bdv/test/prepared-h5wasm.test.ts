import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { embeddedModule } from '../../../scripts/h5wasm-embedded-module.mjs';
import {
  captureHeapImage,
  dataSegments,
  heapBaseOf,
  STARTED_DIFFERENCES,
  startedDifferences,
} from '../../../scripts/heap-image.mjs';
import { sections } from '../../../scripts/wasm-sections.mjs';
import {
  definedMemoryLimits,
  shareDefinedMemory,
  shareImportedMemory,
} from '../../../scripts/share-wasm-memory.mjs';
import { loadH5 } from '../src/h5/h5wasm-runtime.js';
import {
  heapIsShared,
  initialisedCopy,
  preparedH5wasm,
  type PreparedSource,
} from '../src/h5/prepared-h5wasm.js';

// scripts/prepare-h5wasm.mjs (run by `npm run build`) moves h5wasm's embedded WebAssembly into a
// file of its own (docs/adr/014), routes HDF5's gzip writes to Node's zlib (docs/adr/018) and makes
// its memory shared, with the filter plugins rewritten to match (docs/adr/019). The copy must be
// h5wasm's own code with only those changed.
const prepared = preparedH5wasm();
const h5wasm = fileURLToPath(new URL('../../../node_modules/h5wasm', import.meta.url));

/** A module's data segments laid out as its memory starts, to the end of the last one. */
function laidOut(wasm: Buffer): Buffer {
  const segments = dataSegments(wasm);
  const memory = Buffer.alloc(Math.max(...segments.map((s) => s.offset + s.bytes.length)));
  for (const { offset, bytes } of segments) bytes.copy(memory, offset);
  return memory;
}

describe('the prepared h5wasm', () => {
  it('was made by the build from the installed h5wasm', () => {
    expect(prepared, 'run `npm run build`').toMatch(/\/libs\/bdv\/dist\/h5wasm\/hdf5_hl\.js$/);
    const made = JSON.parse(readFileSync(new URL('source.json', prepared), 'utf8'));
    const installed = JSON.parse(readFileSync(join(h5wasm, 'package.json'), 'utf8'));
    expect(made.h5wasm).toBe(installed.version);
  });

  it("is h5wasm's code with the module's string literal replaced by a read of a valid .wasm", () => {
    const original = readFileSync(join(h5wasm, 'dist/node/hdf5_util.js'), 'utf8');
    const withImport = readFileSync(new URL('hdf5_util.js', prepared), 'utf8').replace(
      /^(import [^\n]*\n)+/,
      '',
    );
    const hostImport = 'bdv_deflate:(...a)=>__bdvHostDeflate(wasmMemory,wasmExports,...a),';
    expect(withImport.split(hostImport)).toHaveLength(2);
    const copy = withImport.replace(hostImport, '');
    let start = 0;
    while (original[start] === copy[start]) start++;
    let end = 0;
    while (original.at(-1 - end) === copy.at(-1 - end)) end++;
    expect(original.slice(start, original.length - end)).toMatch(/^binaryDecode\('\0asm/);
    expect(copy.slice(start, copy.length - end)).toBe(
      "__bdvReadWasm(new URL('./hdf5_util.wasm', import.meta.url)",
    );
    expect(original.length - start - end).toBeGreaterThan(3_000_000);
    const wasm = readFileSync(new URL('hdf5_util.wasm', prepared));
    expect(WebAssembly.validate(wasm)).toBe(true);
    expect(
      readFileSync(new URL('hdf5_hl.js', prepared)).equals(
        readFileSync(join(h5wasm, 'dist/node/hdf5_hl.js')),
      ),
    ).toBe(true);
  });

  it("differs from h5wasm's module by one import: the deflate filter's host half", () => {
    expect(JSON.parse(readFileSync(new URL('source.json', prepared), 'utf8')).deflate).toBe('node-zlib');
    const util = join(h5wasm, 'dist/node/hdf5_util.js');
    const original = new WebAssembly.Module(embeddedModule(readFileSync(util, 'utf8'), util).wasm);
    const copy = new WebAssembly.Module(readFileSync(new URL('hdf5_util.wasm', prepared)));
    const names = (list: { module: string; name: string; kind: string }[]) =>
      list.map((i) => `${i.module}.${i.name}:${i.kind}`);
    expect(names(WebAssembly.Module.imports(copy))).toEqual([
      ...names(WebAssembly.Module.imports(original)),
      'env.bdv_deflate:function',
    ]);
    const exports = (m: WebAssembly.Module) =>
      WebAssembly.Module.exports(m).map((e) => `${e.name}:${e.kind}`);
    expect(exports(copy)).toEqual(exports(original));
  });

  it("has a shared heap, and every filter plugin it loads is the package's with its memory import shared", async () => {
    const made = JSON.parse(readFileSync(new URL('source.json', prepared), 'utf8'));
    expect(made.memory).toBe('shared');
    expect(made.pluginFolders).toEqual(['plugins-bdv', 'plugins-h5wasm']);
    const { module } = await loadH5();
    expect(heapIsShared(module)).toBe(true);
    const wasm = readFileSync(new URL('hdf5_util.wasm', prepared));
    // the memory flag is the only byte the sharing changed
    const limits = definedMemoryLimits(wasm);
    expect(limits.flags).toBe(0x03);
    expect(shareDefinedMemory(wasm.map((b, i) => (i === limits.at ? 0x01 : b))).equals(wasm)).toBe(true);
    const maxPages = limits.max!;
    const originals = {
      'plugins-bdv': fileURLToPath(new URL('../plugins', import.meta.url)),
      'plugins-h5wasm': fileURLToPath(
        new URL('../../../node_modules/h5wasm-plugins/plugins', import.meta.url),
      ),
    };
    for (const [folder, from] of Object.entries(originals)) {
      const names = readdirSync(from).filter((n) => n.endsWith('.so'));
      expect(names.length).toBeGreaterThan(0);
      expect(readdirSync(new URL(`${folder}/`, prepared)).sort()).toEqual(names.sort());
      for (const name of names) {
        const copy = readFileSync(new URL(`${folder}/${name}`, prepared));
        expect(copy.equals(shareImportedMemory(readFileSync(join(from, name)), maxPages)), name).toBe(true);
      }
    }
    // HDF5 searches the copies, ours first (our LZF, id 32000, before h5wasm-plugins' own)
    const paths = module.get_plugin_search_paths();
    expect(paths.slice(0, 2)).toEqual(
      made.pluginFolders.map((f: string) => fileURLToPath(new URL(`${f}/`, prepared))),
    );
  });

  it('has a twin whose module starts with the heap HDF5 holds once initialised, and nothing else changed', () => {
    const made = JSON.parse(readFileSync(new URL('source.json', prepared), 'utf8')) as PreparedSource;
    expect(made.heapImage).toMatchObject({
      hl: 'hdf5_hl.initialised.js',
      glue: 'hdf5_util.initialised.js',
      wasm: 'hdf5_util.initialised.wasm',
    });
    const plain = readFileSync(new URL('hdf5_util.wasm', prepared));
    const twin = readFileSync(new URL('hdf5_util.initialised.wasm', prepared));
    expect(twin.length).toBe(made.heapImage!.bytes!.wasm);
    // every section but the data (11) and its count (12) is byte for byte the plain module's
    const code = (wasm: Buffer) =>
      sections(wasm)
        .filter((s) => s.id !== 11 && s.id !== 12)
        .map((s) => [s.id, wasm.subarray(s.payload, s.end)] as const);
    const [plainSections, twinSections] = [code(plain), code(twin)];
    expect(twinSections.map(([id]) => id)).toEqual(plainSections.map(([id]) => id));
    twinSections.forEach(([id, bytes], i) =>
      expect(bytes.equals(plainSections[i]![1]), `section ${id}`).toBe(true),
    );
    // its data laid out is, byte for byte, the heap a fresh HDF5 holds once h5wasm is ready
    const image = captureHeapImage(
      fileURLToPath(new URL('hdf5_hl.js', prepared)),
      definedMemoryLimits(plain).min * 65536,
    );
    expect(laidOut(twin).equals(image)).toBe(true);
    // and it holds more than the plain module's static data: HDF5's tables, in the heap past it
    const staticEnd = Math.max(...dataSegments(plain).map((s) => s.offset + s.bytes.length));
    expect(image.length).toBeGreaterThan(staticEnd + 100_000);
    // its glue and API differ from the plain copy's only in the files they load
    const same = (twinFile: string, plainFile: string, names: [string, string]) =>
      expect(readFileSync(new URL(twinFile, prepared), 'utf8').replace(names[0], names[1])).toBe(
        readFileSync(new URL(plainFile, prepared), 'utf8'),
      );
    same('hdf5_util.initialised.js', 'hdf5_util.js', ['hdf5_util.initialised.wasm', 'hdf5_util.wasm']);
    same('hdf5_hl.initialised.js', 'hdf5_hl.js', ['hdf5_util.initialised.js', 'hdf5_util.js']);
  });

  it('once started, differs from the plain copy only where its constructors ran twice', async () => {
    // libc's environment pointer, the allocator's state and one node of embind's initialiser
    // list (scripts/heap-image.mjs, STARTED_DIFFERENCES): anything more is state the image baked in
    // against the twin's own data laid out: the plain copy's started heap (the test above)
    const differing = startedDifferences(
      laidOut(readFileSync(new URL('hdf5_util.initialised.wasm', prepared))),
      fileURLToPath(new URL('hdf5_hl.initialised.js', prepared)),
      await heapBaseOf(readFileSync(new URL('hdf5_util.wasm', prepared))),
    );
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.length).toBeLessThanOrEqual(STARTED_DIFFERENCES);
  });

  it('uses the twin unless asked not to or an HDF5_* variable is set (HDF5 reads them as it initialises)', () => {
    const made = JSON.parse(readFileSync(new URL('source.json', prepared), 'utf8')) as PreparedSource;
    const twin = new URL('hdf5_hl.initialised.js', prepared).href;
    expect(initialisedCopy(prepared!, made, { PATH: '/usr/bin', BDV_H5WASM: '' })).toBe(twin);
    expect(initialisedCopy(prepared!, made, { HDF5_PLUGIN_PATH: '/opt/plugins' })).toBeUndefined();
    expect(initialisedCopy(prepared!, made, { HDF5_DRIVER: 'sec2' })).toBeUndefined();
    expect(initialisedCopy(prepared!, made, { HDF5_VOL_CONNECTOR: '' })).toBeUndefined();
    // file locks do nothing in the wasm build: NFS clients' usual setting keeps the twin
    expect(initialisedCopy(prepared!, made, { HDF5_USE_FILE_LOCKING: 'FALSE' })).toBe(twin);
    expect(initialisedCopy(prepared!, made, { BDV_H5WASM: 'no-heap-image' })).toBeUndefined();
    for (const part of ['hl', 'glue', 'wasm'] as const) {
      const bytes = { ...made.heapImage!.bytes, [part]: 1 };
      expect(
        initialisedCopy(prepared!, { ...made, heapImage: { ...made.heapImage, bytes } }, {}),
      ).toBeUndefined();
    }
    expect(initialisedCopy(prepared!, { ...made, heapImage: undefined }, {})).toBeUndefined();
  });
});
