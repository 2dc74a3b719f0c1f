// Rewrites h5wasm's WebAssembly so that HDF5's own deflate filter, when it compresses a chunk,
// calls an import (env.bdv_deflate: libs/bdv/src/h5/host-deflate.ts, Node's zlib) instead of the
// zlib compiled into the module; reads still inflate in wasm. Used by prepare-h5wasm.mjs at build
// time; see docs/adr/018-deflate-by-node-zlib.md for why and what it measured.
//
// The filter is found by what HDF5 registers, not by guessing at code: the module's static data
// holds HDF5's H5Z_class2_t for deflate { version 1, id 1, encoder 1, decoder 1, name "deflate",
// can_apply, set_local, filter }, and `filter` is an index into the function table. Anything
// unexpected (no such record, two of them, another signature) throws: the caller then keeps the
// module as it was.

/**
 * A conservative feature set for binaryen to write with (with all features on it used encodings,
 * such as compact imports, that Node 20 rejects); its validation below checks the module needs no more.
 */
const featuresOf = (binaryen) =>
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.SignExt |
  binaryen.Features.Multivalue |
  binaryen.Features.ReferenceTypes;

export const HOST_DEFLATE_IMPORT = 'bdv_deflate';
const H5Z_FLAG_REVERSE = 0x0100;
const FILTER_ARGUMENTS = 6; // flags, cd_nelmts, cd_values, nbytes, buf_size, buf

/** The module's active data segments laid out as memory starts: where static C data lives. */
function staticMemory(binaryen, m) {
  const segments = [];
  for (let i = 0; i < m.getNumDataSegments(); i++) {
    const s = m.getDataSegmentInfo(m.getDataSegmentByIndex(i));
    if (!s.passive) segments.push(s);
  }
  const end = Math.max(...segments.map((s) => s.offset + s.data.byteLength));
  const image = new Uint8Array(end);
  for (const s of segments) image.set(new Uint8Array(s.data), s.offset);
  return image;
}

/** The name (binaryen's) of the function HDF5 registered as its deflate filter. */
function deflateFilterFunction(binaryen, m) {
  const image = staticMemory(binaryen, m);
  const words = new DataView(image.buffer);
  // Where "deflate" ends a string: the linker merges it into the tail of a longer one.
  const bytes = Buffer.from(image.buffer);
  const names = [];
  for (let at = bytes.indexOf('deflate\0'); at >= 0; at = bytes.indexOf('deflate\0', at + 1)) names.push(at);
  const records = [];
  for (let p = 0; p + 32 <= image.length; p += 4) {
    const isDeflateClass =
      words.getInt32(p, true) === 1 && // H5Z_CLASS_T_VERS
      words.getInt32(p + 4, true) === 1 && // H5Z_FILTER_DEFLATE
      words.getUint32(p + 8, true) === 1 && // encoder present
      words.getUint32(p + 12, true) === 1 && // decoder present
      names.includes(words.getUint32(p + 16, true));
    if (isDeflateClass) records.push(words.getUint32(p + 28, true));
  }
  if (records.length !== 1) throw new Error(`${records.length} deflate filter records in the module, not 1`);
  const tableIndex = records[0];
  for (let i = 0; i < m.getNumElementSegments(); i++) {
    const segment = binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(i));
    const offset = binaryen.getExpressionInfo(segment.offset);
    if (offset.id !== binaryen.ConstId) continue;
    const k = tableIndex - offset.value;
    if (k >= 0 && k < segment.data.length) return segment.data[k];
  }
  throw new Error(`the deflate filter's table slot ${tableIndex} is in no element segment`);
}

/**
 * The module with HDF5's deflate filter split in two: with H5Z_FLAG_REVERSE set (a read) it runs
 * its own code, moved unchanged into a function of its own; otherwise it calls the host import.
 */
export async function routeDeflateToHost(wasm) {
  const { default: binaryen } = await import('binaryen');
  const m = binaryen.readBinary(wasm);
  try {
    m.setFeatures(featuresOf(binaryen));
    const name = deflateFilterFunction(binaryen, m);
    const filter = binaryen.getFunctionInfo(m.getFunction(name));
    const params = binaryen.expandType(filter.params);
    const results = binaryen.expandType(filter.results);
    const i32 = binaryen.i32;
    if (params.length !== FILTER_ARGUMENTS || params.some((t) => t !== i32) || results.join() !== String(i32))
      throw new Error(`the deflate filter (${name}) does not take 6 i32 and return one`);
    m.addFunction(
      'bdv_wasm_deflate',
      filter.params,
      filter.results,
      filter.vars,
      m.copyExpression(filter.body),
    );
    m.addFunctionImport('bdv_host_deflate', 'env', HOST_DEFLATE_IMPORT, filter.params, filter.results);
    const args = () => params.map((_, k) => m.local.get(k, i32));
    binaryen.Function.setBody(
      m.getFunction(name),
      m.if(
        m.i32.and(m.local.get(0, i32), m.i32.const(H5Z_FLAG_REVERSE)),
        m.call('bdv_wasm_deflate', args(), i32),
        m.call('bdv_host_deflate', args(), i32),
      ),
    );
    if (!m.validate()) throw new Error('binaryen finds the rewritten module invalid');
    const out = m.emitBinary();
    if (!WebAssembly.validate(out)) throw new Error('this Node finds the rewritten module invalid');
    return out;
  } finally {
    m.dispose();
  }
}

/**
 * Emscripten's glue with the import filled in: it hands the filter this instance's memory and
 * exports (H5allocate_memory, H5free_memory). `hostDeflateUrl` is the module exporting hostDeflate, relative to the glue.
 */
export function glueWithHostDeflate(glue, hostDeflateUrl) {
  const imports = 'var wasmImports={';
  if (glue.split(imports).length !== 2) throw new Error(`the glue has no single "${imports}"`);
  return (
    `import { hostDeflate as __bdvHostDeflate } from '${hostDeflateUrl}';\n` +
    glue.replace(
      imports,
      `${imports}${HOST_DEFLATE_IMPORT}:(...a)=>__bdvHostDeflate(wasmMemory,wasmExports,...a),`,
    )
  );
}
