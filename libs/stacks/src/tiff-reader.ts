import type { Zyx } from '@bdv-cluster/bdv';
// Types only: geotiff (~100 ms to import) is loaded when a TIFF is opened, not with the library.
import type { GeoTIFF, GeoTIFFImage } from 'geotiff';

type BaseSource = Parameters<typeof GeoTIFF.fromSource>[0];
import { readUpTo, type ByteSource } from './byte-source.js';
import { checkExpectation } from './expectation.js';
import { assertKept } from './kept-slab.js';
import { StackError } from './stack-error.js';
import { checkTiffLayout, parseTiffLayout, readImageDescriptions } from './tiff-metadata.js';
import { countTiffPages } from './tiff-pages.js';
import type { SampleType, StackExpectation, StackReader } from './stack-reader.js';

/**
 * Errors of the ByteSource itself (an S3 outage, EIO on a network share), which pass through
 * geotiff: they are the store's, not the file's, and must stay what they are (retried, 503), not
 * become "not a readable TIFF" (permanent, 400).
 */
const sourceFailures = new WeakSet<object>();

/** Lets geotiff read ranges of any ByteSource (file or S3 object) instead of the whole file. */
class RangeSource {
  constructor(private readonly source: ByteSource) {}

  async fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> {
    return Promise.all(
      slices.map(async ({ offset, length }) => {
        const buffer = new Uint8Array(Math.max(0, Math.min(length, this.source.size - offset)));
        const done = await readUpTo(this.source, offset, buffer).catch((error: unknown) => {
          if (typeof error === 'object' && error !== null) sourceFailures.add(error);
          throw error;
        });
        return buffer.buffer.slice(0, done);
      }),
    );
  }

  get fileSize(): number {
    return this.source.size;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A multi-page TIFF whose pages are the z-planes (ImageJ / tifffile / OME stacks of one channel
 * and one timepoint; see tiff-metadata.ts).
 */
class TiffStackReader implements StackReader {
  readonly format = 'tiff' as const;
  readonly dataBytes: number;

  constructor(
    private readonly source: ByteSource,
    private readonly tiff: GeoTIFF,
    readonly shapeZyx: Zyx,
    readonly sampleType: SampleType,
  ) {
    this.dataBytes = shapeZyx[0] * shapeZyx[1] * shapeZyx[2] * (sampleType === 'uint8' ? 1 : 2);
  }

  get name(): string {
    return this.source.name;
  }

  async *slabs(depth: number): AsyncIterable<Uint16Array> {
    const [nz, ny, nx] = this.shapeZyx;
    const d = Math.max(1, Math.min(depth, nz));
    const slab = new Uint16Array(d * ny * nx);
    for (let z0 = 0; z0 < nz; z0 += d) {
      const planes = Math.min(d, nz - z0);
      for (let i = 0; i < planes; i++) {
        const page = z0 + i;
        const raster = await readable(this.source.name, `page ${page}`, async () => {
          const image = await this.tiff.getImage(page);
          checkPage(this.source.name, image, page, ny, nx, this.sampleType);
          return (await image.readRasters({ interleave: true })) as unknown as ArrayLike<number>;
        });
        slab.set(raster, i * ny * nx);
      }
      yield slab.subarray(0, planes * ny * nx);
      assertKept(this.source, z0, planes, false);
    }
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

function sampleTypeOfPage(name: string, image: GeoTIFFImage, page: number): SampleType {
  const bits = image.getBitsPerSample();
  const format = image.getSampleFormat();
  const samples = image.getSamplesPerPixel();
  if (samples !== 1)
    throw new StackError(
      'UNSUPPORTED_DTYPE',
      `${name}: page ${page} has ${samples} samples per pixel, expected 1 (grayscale)`,
      name,
    );
  if (format !== 1)
    throw new StackError(
      'UNSUPPORTED_DTYPE',
      `${name}: page ${page} holds ${bits}-bit ${format === 2 ? 'signed' : format === 3 ? 'float' : 'untyped'} samples, not unsigned 16-bit (uint16), which BDV stores: ${SAVE_AS_UINT16}`,
      name,
    );
  if (bits === 16) return 'uint16';
  if (bits === 8) return 'uint8';
  throw new StackError(
    'UNSUPPORTED_DTYPE',
    `${name}: page ${page} has ${bits}-bit samples, not unsigned 16-bit (uint16), which BDV stores: ${SAVE_AS_UINT16}`,
    name,
  );
}

/** What to do about samples BDV does not store, as the .npy reader says it (npy-reader.ts). */
const SAVE_AS_UINT16 =
  "save the stack as uint16 first (Fiji: Image > Type > 16-bit; numpy/tifffile: a.astype('<u2'), scaled to 0..65535 as your data needs)";

function checkPage(
  name: string,
  image: GeoTIFFImage,
  page: number,
  ny: number,
  nx: number,
  sampleType: SampleType,
): void {
  if (image.getWidth() !== nx || image.getHeight() !== ny) {
    throw new StackError(
      'SHAPE_MISMATCH',
      `${name}: page ${page} is ${image.getHeight()}x${image.getWidth()} (y,x), the first page is ${ny}x${nx}`,
      name,
    );
  }
  if (sampleTypeOfPage(name, image, page) !== sampleType) {
    throw new StackError('UNSUPPORTED_DTYPE', `${name}: page ${page} changes the sample type`, name);
  }
}

/** TIFF compression codes geotiff decodes for 16-bit gray pages, by name. */
const DECODED: Record<number, string> = {
  1: 'none',
  5: 'LZW',
  8: 'deflate',
  32946: 'deflate',
  32773: 'PackBits',
  34887: 'LERC',
  50000: 'zstd',
};
/** What the refusal suggests: lossless codecs microscope software writes and geotiff reads. */
const ALTERNATIVES = 'LZW, deflate, PackBits or zstd';
/** Others a microscope's software may write, named in the refusal. */
const NOT_DECODED: Record<number, string> = {
  6: 'old-style JPEG',
  7: 'JPEG',
  34925: 'LZMA',
  50001: 'WebP',
  33003: 'JPEG 2000',
  33005: 'JPEG 2000',
  34712: 'JPEG 2000',
};

/**
 * Refused with the header, not at the page's first read mid-conversion (where earlier views
 * would already be written): the first page's compression must be one geotiff decodes.
 */
function checkCompression(name: string, code: number): void {
  if (DECODED[code]) return;
  const known = NOT_DECODED[code];
  throw new StackError(
    'UNSUPPORTED',
    `${name}: TIFF compression ${known ? `${known} (${code})` : code} is not supported; save it uncompressed or with ${ALTERNATIVES}`,
    name,
  );
}

/**
 * `read()`, with whatever geotiff throws on a malformed structure (RangeErrors, "Invalid field
 * type") or on image data that does not decompress as a BAD_HEADER naming the file; our own
 * StackErrors and the source's failures pass as they are.
 */
async function readable<T>(name: string, what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (
      error instanceof StackError ||
      (typeof error === 'object' && error !== null && sourceFailures.has(error))
    )
      throw error;
    // The inflate geotiff uses (pako) throws bare strings ("invalid code lengths set").
    const reason = error instanceof Error ? error.message : String(error);
    throw new StackError('BAD_HEADER', `${name}: not a readable TIFF (${what}: ${reason})`, name);
  }
}

/** Opens a multi-page grayscale TIFF; the shape comes from the page count and the first page. */
export async function openTiff(source: ByteSource, expect: StackExpectation = {}): Promise<StackReader> {
  const { GeoTIFF: Tiff } = await import('geotiff');
  // A hyperstack's channels or timepoints would be read as more z-planes: refused by what its
  // first page's description says, before a declared depth would refuse it less helpfully.
  const layouts = (await readImageDescriptions(source)).map(parseTiffLayout);
  for (const layout of layouts) checkTiffLayout(source.name, layout);
  // Counted first, by our own walk (geotiff's getImageCount never ends on a looping chain), no
  // further than a declared shape's depth.
  const pages = await countTiffPages(source, expect.shapeZyx?.[0]);
  for (const layout of layouts) checkTiffLayout(source.name, layout, pages);
  const tiff = await readable(source.name, 'header', () =>
    Tiff.fromSource(new RangeSource(source) as unknown as BaseSource),
  );
  const { sampleType, shape } = await readable(source.name, 'page 0', async () => {
    const first = await tiff.getImage(0);
    checkCompression(source.name, Number((await first.fileDirectory.loadValue('Compression')) ?? 1));
    const planeShape: Zyx = [pages, first.getHeight(), first.getWidth()];
    return { sampleType: sampleTypeOfPage(source.name, first, 0), shape: planeShape };
  });
  checkExpectation(source.name, shape, sampleType, expect);
  return new TiffStackReader(source, tiff, shape, sampleType);
}
