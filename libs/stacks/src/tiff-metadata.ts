import { readUpTo, type ByteSource } from './byte-source.js';
import { StackError } from './stack-error.js';

/**
 * Bytes of the first page's ImageDescription looked at. ImageJ's is a few lines, tifffile's a
 * short JSON; an OME-XML lists every plane (a few hundred KB for thousands of planes), but its
 * first Image and Pixels come before those. What lies past this is not read.
 */
export const MAX_DESCRIPTION_BYTES = 256 * 1024;
/** Entries of the first IFD searched for the ImageDescription (sorted by tag, it is among the first). */
const MAX_ENTRIES = 1024;
/**
 * ImageDescription tags of the first page looked at: Micro-Manager writes two, its own and an
 * ImageJ one (tifffile's `description1`), and a hyperstack may be declared in either.
 */
const MAX_DESCRIPTIONS = 4;
/** Characters of an OME element's start tag looked at for its attributes. */
const MAX_TAG_CHARS = 8192;

const ImageDescription = 270;

/**
 * What the first page's ImageDescription says the pages are, when it is one of the layouts that
 * can hold more than z-planes; undefined for anything else or anything malformed (the file is then
 * read as plain pages).
 */
export type TiffLayout =
  | { kind: 'imagej'; images?: number; channels?: number; slices?: number; frames?: number }
  | { kind: 'ome'; images: number; sizeZ?: number; sizeC?: number; sizeT?: number }
  | { kind: 'tifffile'; shape: number[]; axes?: string };

/**
 * The first page's ImageDescriptions (MAX_DESCRIPTIONS at most), each at most
 * MAX_DESCRIPTION_BYTES, up to its first NUL; none where the structure leading to them is not
 * sound (countTiffPages then says what is wrong with it). The source's own failures pass as they are.
 */
export async function readImageDescriptions(source: ByteSource): Promise<string[]> {
  const header = await bytesAt(source, 0, 16);
  if (!header || header.length < 8) return [];
  const head = view(header);
  const order = String.fromCharCode(header[0]!, header[1]!);
  if (order !== 'II' && order !== 'MM') return [];
  const little = order === 'II';
  const version = head.getUint16(2, little);
  if (version !== 42 && (version !== 43 || header.length < 16)) return [];
  const big = version === 43;
  const offsetAt = (v: DataView, at: number) =>
    big ? Number(v.getBigUint64(at, little)) : v.getUint32(at, little);
  const ifd = offsetAt(head, big ? 8 : 4);
  const counted = await bytesAt(source, ifd, big ? 8 : 2);
  if (!counted || counted.length < (big ? 8 : 2)) return [];
  const claimed = big ? Number(view(counted).getBigUint64(0, little)) : view(counted).getUint16(0, little);
  const entries = Math.min(claimed, MAX_ENTRIES);
  const entryBytes = big ? 20 : 12;
  const table = await bytesAt(source, ifd + (big ? 8 : 2), entries * entryBytes);
  if (!table) return [];
  const entriesView = view(table);
  const descriptions: string[] = [];
  for (let at = 0; at + entryBytes <= table.length; at += entryBytes) {
    if (entriesView.getUint16(at, little) !== ImageDescription) continue;
    const type = entriesView.getUint16(at + 2, little);
    if (type !== 1 && type !== 2 && type !== 7) continue; // BYTE, ASCII, UNDEFINED
    const count = big
      ? Number(entriesView.getBigUint64(at + 4, little))
      : entriesView.getUint32(at + 4, little);
    const valueAt = at + (big ? 12 : 8);
    const bytes =
      count <= (big ? 8 : 4)
        ? table.subarray(valueAt, valueAt + count)
        : await bytesAt(source, offsetAt(entriesView, valueAt), Math.min(count, MAX_DESCRIPTION_BYTES));
    if (!bytes) continue;
    const end = bytes.indexOf(0);
    descriptions.push(new TextDecoder('utf-8').decode(end < 0 ? bytes : bytes.subarray(0, end)));
    if (descriptions.length === MAX_DESCRIPTIONS) break;
  }
  return descriptions;
}

/** Up to `length` bytes at `at`; undefined where `at` is not inside the file. */
async function bytesAt(source: ByteSource, at: number, length: number): Promise<Uint8Array | undefined> {
  if (!Number.isSafeInteger(at) || at < 0 || at >= source.size) return undefined;
  const bytes = new Uint8Array(Math.max(0, Math.min(length, source.size - at)));
  return bytes.subarray(0, await readUpTo(source, at, bytes));
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The layout an ImageJ, OME or tifffile description declares; undefined for any other text. */
export function parseTiffLayout(description: string | undefined): TiffLayout | undefined {
  if (description === undefined) return undefined;
  const text = description.slice(0, MAX_DESCRIPTION_BYTES);
  if (/^[ \t\f]*ImageJ[ \t\f]*[=:]/.test(text)) return imagejLayout(text);
  if (/^\s*\{/.test(text)) return tifffileLayout(text);
  if (/^\s*</.test(text) && /<(?:[\w.-]{1,64}:)?OME[\s/>]/.test(text)) return omeLayout(text);
  return undefined;
}

/**
 * ImageJ reads its description as Java properties: `key=value`, `key = value` or `key:value`,
 * leading blanks, lines broken by LF, CR or CRLF. Read the same way, or a hyperstack written
 * with other spacing would pass as plain pages.
 */
function imagejLayout(text: string): TiffLayout {
  const fields = new Map<string, number>();
  for (const line of text.split(/\r\n|\r|\n/)) {
    const field = /^[ \t\f]*(images|channels|slices|frames)[ \t\f]*[=:][ \t\f]*0*(\d{1,9})[ \t\f]*$/.exec(
      line,
    );
    if (field && !fields.has(field[1]!)) fields.set(field[1]!, Number(field[2]));
  }
  return {
    kind: 'imagej',
    images: fields.get('images'),
    channels: fields.get('channels'),
    slices: fields.get('slices'),
    frames: fields.get('frames'),
  };
}

/** tifffile's own `{"shape": [...], "axes": "..."}`; undefined if it is not that. */
function tifffileLayout(text: string): TiffLayout | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { shape, axes } = parsed as { shape?: unknown; axes?: unknown };
  if (
    !Array.isArray(shape) ||
    shape.length < 2 ||
    shape.length > 32 ||
    !shape.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
  )
    return undefined;
  const named = typeof axes === 'string' && axes.length === shape.length ? axes : undefined;
  return { kind: 'tifffile', shape: shape as number[], axes: named };
}

/** Counts Image and Pixels elements (up to 2 each) and reads the first Pixels' sizes. */
function omeLayout(text: string): TiffLayout | undefined {
  const first = /<(?:[\w.-]{1,64}:)?Pixels[\s/>]/.exec(text);
  if (!first) return undefined;
  const start = first.index + first[0].length;
  const tag = /^[^<>]*/.exec(text.slice(start, start + MAX_TAG_CHARS))![0];
  const size = (axis: string) => {
    const found = new RegExp(`(?:^|\\s)Size${axis}\\s*=\\s*["']\\s*(\\d{1,9})\\s*["']`).exec(tag);
    return found ? Number(found[1]) : undefined;
  };
  return {
    kind: 'ome',
    images: Math.max(
      countUpTo(text, /<(?:[\w.-]{1,64}:)?Image[\s/>]/g, 2),
      countUpTo(text, /<(?:[\w.-]{1,64}:)?Pixels[\s/>]/g, 2),
    ),
    sizeZ: size('Z'),
    sizeC: size('C'),
    sizeT: size('T'),
  };
}

function countUpTo(text: string, pattern: RegExp, most: number): number {
  pattern.lastIndex = 0;
  let count = 0;
  while (count < most && pattern.exec(text)) count++;
  return count;
}

const SPLIT =
  'split it into one file per channel and timepoint, e.g. in Fiji Image > Stacks > Tools > Reduce Dimensionality or with tifffile, then convert those';
/** Added where the only other axis is channels or time: how tifffile labels a 3D array it is given without axes. */
const UNLABELLED =
  "; if its pages are in fact z-planes, write it with axes ZYX (tifffile's imwrite labels a 3D array as channels unless given metadata={'axes': 'ZYX'})";
const RESAVE = 're-save it as one z-stack of one page per plane (e.g. with tifffile), then convert that';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Refuses, with the header, a TIFF whose description says its pages are not (only) one stack's
 * z-planes — channels or timepoints interleaved with z, several series — which would otherwise be
 * read as a deeper z-stack, each channel a z-plane. `pages` is the file's page count.
 */
export function checkTiffLayout(name: string, layout: TiffLayout | undefined, pages?: number): void {
  const refuse = (what: string, advice: string) =>
    new StackError('UNSUPPORTED', `${name}: is ${what}, not one z-stack; ${advice}`, name);
  if (layout?.kind === 'imagej') {
    const { images, channels = 1, slices = 1, frames = 1 } = layout;
    if (channels > 1 || frames > 1) {
      const axes = [
        channels > 1 ? plural(channels, 'channel') : '',
        layout.slices !== undefined ? plural(slices, 'slice') : '',
        frames > 1 ? plural(frames, 'frame') : '',
      ].filter(Boolean);
      const hint = slices <= 1 && (channels === 1 || frames === 1) ? UNLABELLED : '';
      throw refuse(
        `an ImageJ hyperstack of ${axes.join(' x ')} (axes from its ImageDescription)`,
        SPLIT + hint,
      );
    }
    if (pages !== undefined && images !== undefined && images !== pages)
      throw refuse(
        `an ImageJ image of ${plural(images, 'plane')} (from its ImageDescription) in ${plural(pages, 'page')}`,
        RESAVE,
      );
  } else if (layout?.kind === 'ome') {
    const { images, sizeZ, sizeC = 1, sizeT = 1 } = layout;
    if (sizeC > 1 || sizeT > 1) {
      const hint = (sizeZ ?? 1) <= 1 && (sizeC === 1 || sizeT === 1) ? UNLABELLED : '';
      throw refuse(
        `an OME-TIFF with SizeC=${sizeC}, SizeT=${sizeT} (from its ImageDescription)`,
        SPLIT + hint,
      );
    }
    if (images > 1)
      throw refuse(
        'an OME-TIFF of several images (series, from its ImageDescription)',
        'split it into one file per image, e.g. in Fiji (Bio-Formats) or with tifffile, then convert those',
      );
    if (pages !== undefined && sizeZ !== undefined && sizeZ !== pages)
      throw refuse(
        `an OME-TIFF with SizeZ=${sizeZ} (from its ImageDescription) in ${plural(pages, 'page')}`,
        RESAVE,
      );
  } else if (layout?.kind === 'tifffile') {
    const { shape, axes } = layout;
    // The plane's axes (Y, X, samples) are the last ones; trailing 1s are samples of gray pages.
    let last = shape.length;
    if (axes === undefined) while (last > 2 && shape[last - 1] === 1) last--;
    const outer = axes
      ? shape.filter((n, i) => n > 1 && !'YXS'.includes(axes[i]!.toUpperCase()))
      : shape.slice(0, last - 2).filter((n) => n > 1);
    // An axis named channels or time is that, even alone (ImageJ's and OME's are refused so too).
    const labelled =
      axes !== undefined && shape.some((n, i) => n > 1 && 'CT'.includes(axes[i]!.toUpperCase()));
    const what = `a tifffile array of shape (${shape.join(', ')})${axes ? ` and axes ${axes}` : ''} (from its ImageDescription)`;
    if (outer.length > 1 || labelled) throw refuse(what, SPLIT);
    // Pages beyond what the first description declares are not refused: tifffile writes one
    // description per write call, and a z-stack written plane by plane (or in batches of planes)
    // is as common as series appended one after another.
  }
}
