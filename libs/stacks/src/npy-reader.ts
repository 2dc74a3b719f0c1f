import type { Zyx } from '@bdv-cluster/bdv';
import { readExactly, type ByteSource } from './byte-source.js';
import { ContiguousStackReader } from './contiguous-reader.js';
import { checkExpectation } from './expectation.js';
import { StackError } from './stack-error.js';
import type { ByteOrder, SampleType, StackExpectation } from './stack-reader.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * The longest header read. numpy writes ~120 bytes for a 3D array and refuses to read more than
 * 10,000 (`max_header_size`); a format 2/3 file may claim 4 GiB, which would be allocated and
 * decoded to a string before anything else is checked (past ~512 MiB, V8 aborts the process).
 */
export const MAX_NPY_HEADER_BYTES = 64 * 1024;

export interface NpyHeader {
  version: number;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

/** Parses a .npy header (format versions 1, 2 and 3) from its first bytes. */
export async function readNpyHeader(source: ByteSource): Promise<NpyHeader> {
  const bad = (why: string) =>
    new StackError('BAD_HEADER', `${source.name}: not a valid .npy file (${why})`, source.name);
  if (source.size < 10) throw bad(`only ${source.size} bytes`);
  const prefix = new Uint8Array(12);
  await readExactly(source, 0, prefix.subarray(0, Math.min(12, source.size)));
  if (!MAGIC.every((b, i) => prefix[i] === b)) throw bad('missing \\x93NUMPY magic');
  const version = prefix[6]!;
  if (version < 1 || version > 3) throw bad(`format version ${version}.${prefix[7]} is unknown`);
  const view = new DataView(prefix.buffer);
  const lengthBytes = version === 1 ? 2 : 4;
  const headerLength = version === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (headerLength > MAX_NPY_HEADER_BYTES)
    throw bad(
      `header of ${headerLength} bytes; numpy writes a few hundred, at most ${MAX_NPY_HEADER_BYTES} are read`,
    );
  if (start + headerLength > source.size) throw bad(`header of ${headerLength} bytes runs past the end`);
  const raw = new Uint8Array(headerLength);
  await readExactly(source, start, raw);
  const text = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(raw);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw bad(`header "${clip(text.trim())}"`);
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Decimal digits only, as numpy's own parser takes them (Number() would also take 1e0 or 0x2).
  if (!dims.every((d) => /^\d{1,16}$/.test(d))) throw bad(`shape (${clip(shapeText)})`);
  const shape = dims.map(Number);
  return { version, descr, fortranOrder: fortran === 'True', shape, dataOffset: start + headerLength };
}

/** A header's text as quoted in a message: enough to recognise it, never the whole 64 KiB. */
function clip(text: string, chars = 200): string {
  return text.length > chars ? `${text.slice(0, chars)}… (${text.length} characters)` : text;
}

function sampleTypeOf(name: string, descr: string): { sampleType: SampleType; byteOrder: ByteOrder } {
  switch (descr) {
    case '<u2':
      return { sampleType: 'uint16', byteOrder: 'little' };
    case '>u2':
      return { sampleType: 'uint16', byteOrder: 'big' };
    case '|u1':
    case '<u1':
    case '>u1':
      return { sampleType: 'uint8', byteOrder: 'little' };
    default:
      throw new StackError(
        'UNSUPPORTED_DTYPE',
        `${name}: dtype '${descr}' is not uint16 ('<u2' or '>u2'), which BDV stores: save the stack as uint16 first (numpy: a.astype('<u2'), scaled to 0..65535 as your data needs)`,
        name,
      );
  }
}

/** What a .npy header says, once checked as a stack bdv converts. */
export interface NpyStack {
  shapeZyx: Zyx;
  sampleType: SampleType;
  byteOrder: ByteOrder;
  /** Header and samples: the file's whole size. */
  bytes: number;
}

/**
 * Checks a parsed header as `openNpy` does — dtype, 3 dimensions, C order, the stack caps and what
 * the caller declared — before any pixel is read; also what an upload's header bounds its body by.
 */
export function checkNpyHeader(name: string, header: NpyHeader, expect: StackExpectation = {}): NpyStack {
  const { sampleType, byteOrder } = sampleTypeOf(name, header.descr);
  if (header.shape.length !== 3) {
    throw new StackError(
      'SHAPE_MISMATCH',
      `${name}: has ${header.shape.length} dimensions (${header.shape.join(', ')}), expected a 3D (z,y,x) stack`,
      name,
    );
  }
  if (header.fortranOrder) {
    // A z-slab of a Fortran-ordered array is scattered over the whole file: streaming it would
    // re-read the file once per slab. Refuse clearly instead of silently loading it whole.
    throw new StackError(
      'UNSUPPORTED',
      `${name}: is stored in Fortran order; save it in C order (numpy.ascontiguousarray) to stream it`,
      name,
    );
  }
  const shapeZyx = header.shape as Zyx;
  checkExpectation(name, shapeZyx, sampleType, expect);
  const samples = shapeZyx[0] * shapeZyx[1] * shapeZyx[2];
  return {
    shapeZyx,
    sampleType,
    byteOrder,
    bytes: header.dataOffset + samples * (sampleType === 'uint8' ? 1 : 2),
  };
}

/** Opens a .npy stack: checks header, dtype, order, shape and size before any pixel is read. */
export async function openNpy(
  source: ByteSource,
  expect: StackExpectation = {},
): Promise<ContiguousStackReader> {
  const header = await readNpyHeader(source);
  const { shapeZyx, sampleType, byteOrder } = checkNpyHeader(source.name, header, expect);
  return new ContiguousStackReader(source, 'npy', shapeZyx, sampleType, byteOrder, header.dataOffset);
}
