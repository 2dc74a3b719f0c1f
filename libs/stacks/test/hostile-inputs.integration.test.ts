import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, tempDir } from '../../../test/support/oracle.js';
import { FileByteSource, openStackFile, StackError } from '../src/index.js';
import { MAX_NPY_HEADER_BYTES } from '../src/npy-reader.js';
import { countTiffPages } from '../src/tiff-pages.js';

// Inputs made to break a reader: each must end in a StackError naming the file, promptly and
// without allocating what the file claims (these run in the API, on every submitted source).

const dir = tempDir('bdv-hostile-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());

const npyHeader = (shape: string) => `{'descr': '<u2', 'fortran_order': False, 'shape': ${shape}, }`;

/** A format-2 .npy claiming a `headerLength`-byte header, sparse past what is written, then `dataBytes`. */
function npyClaiming(
  path: string,
  headerLength: number,
  header = npyHeader('(1, 1, 1)'),
  dataBytes = 2,
): void {
  const fd = openSync(path, 'w');
  const prefix = Buffer.alloc(12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(prefix);
  prefix.writeUInt32LE(headerLength, 8);
  writeSync(fd, prefix);
  writeSync(fd, Buffer.from(header, 'latin1'));
  ftruncateSync(fd, 12 + Math.max(headerLength, header.length) + dataBytes);
  closeSync(fd);
}

/** A little-endian classic TIFF of `pages` 4x4 uint16 pages; page i's next-IFD offset from `nextOf`. */
function tiffWithChain(path: string, pages: number, nextOf: (page: number, ifdAt: number[]) => number): void {
  const tags = (data: number): [number, number, number][] => [
    [256, 3, 4],
    [257, 3, 4],
    [258, 3, 16],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, data],
    [277, 3, 1],
    [278, 3, 4],
    [279, 4, 32],
  ];
  const ifdBytes = 2 + 9 * 12 + 4;
  const pageBytes = 32 + ifdBytes;
  const ifdAt = Array.from({ length: pages }, (_, i) => 8 + i * pageBytes + 32);
  const out = Buffer.alloc(8 + pages * pageBytes);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifdAt[0]!, 4);
  for (let i = 0; i < pages; i++) {
    let at = ifdAt[i]!;
    out.writeUInt16LE(9, at);
    at += 2;
    for (const [tag, type, value] of tags(ifdAt[i]! - 32)) {
      out.writeUInt16LE(tag, at);
      out.writeUInt16LE(type, at + 2);
      out.writeUInt32LE(1, at + 4);
      if (type === 3) out.writeUInt16LE(value, at + 8);
      else out.writeUInt32LE(value, at + 8);
      at += 12;
    }
    out.writeUInt32LE(nextOf(i, ifdAt), at);
  }
  writeFileSync(path, out);
}

async function refusal(open: Promise<unknown>): Promise<StackError> {
  const error = await open.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StackError);
  return error as StackError;
}

describe('hostile .npy headers', () => {
  it('refuses a header longer than numpy ever writes before reading it (a 700 MiB claim once aborted Node)', async () => {
    npyClaiming(p('huge-header.npy'), 700 * 1024 * 1024);
    npyClaiming(p('long-header.npy'), MAX_NPY_HEADER_BYTES + 1);
    for (const name of ['huge-header.npy', 'long-header.npy']) {
      const rss = process.memoryUsage().rss;
      const error = await refusal(openStackFile(p(name)));
      expect(error.code).toBe('BAD_HEADER');
      expect(error.message).toMatch(new RegExp(`${name}: not a valid \\.npy file \\(header of \\d+ bytes`));
      expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
    }
  });

  it('still reads a header padded up to the bound', async () => {
    const header = npyHeader('(1, 2, 3)').padEnd(MAX_NPY_HEADER_BYTES - 1, ' ') + '\n';
    npyClaiming(p('padded.npy'), header.length, header, 12);
    const reader = await openStackFile(p('padded.npy'));
    expect(reader.shapeZyx).toEqual([1, 2, 3]);
    await reader.close();
  });

  it.each(['(1e0, 2, 2)', '(0x2, 2, 2)', '(2.0, 2, 2)', '(-1, 2, 2)', '(99999999999999999999, 1, 1)'])(
    'refuses the shape %s, as numpy does',
    async (shape) => {
      const header = npyHeader(shape);
      npyClaiming(p('shape.npy'), header.length, header);
      const error = await refusal(openStackFile(p('shape.npy')));
      expect(error.code).toBe('BAD_HEADER');
      expect(error.message).toContain('shape (');
    },
  );

  it('refuses a stack larger than bdv writes when its header is read, not later', async () => {
    const header = npyHeader('(1, 1, 1100000)');
    npyClaiming(p('wide.npy'), header.length, header);
    const error = await refusal(openStackFile(p('wide.npy')));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/wide\.npy: shape \(1, 1, 1100000\) is larger than a stack bdv writes/);
  });
});

describe('hostile TIFF structures', () => {
  it('counts the pages of TIFF and BigTIFF stacks as tifffile wrote them (ImageJ layout too)', async () => {
    execFileSync(PYTHON, [
      '-c',
      [
        'import numpy as np, tifffile, sys',
        'a = (np.arange(7 * 5 * 6) % 65536).astype("<u2").reshape(7, 5, 6)',
        'tifffile.imwrite(sys.argv[1], a)',
        'tifffile.imwrite(sys.argv[2], a, bigtiff=True)',
        // Axes given: without them tifffile labels a 3D array 7 channels, refused (tiff-metadata.ts).
        "tifffile.imwrite(sys.argv[3], a, imagej=True, metadata={'axes': 'ZYX'})",
      ].join('\n'),
      p('plain.tif'),
      p('big.tif'),
      p('imagej.tif'),
    ]);
    for (const name of ['plain.tif', 'big.tif', 'imagej.tif']) {
      const source = await FileByteSource.open(p(name));
      expect(await countTiffPages(source), name).toBe(7);
      await source.close();
      const reader = await openStackFile(p(name));
      expect(reader.shapeZyx).toEqual([7, 5, 6]);
      await reader.close();
    }
  });

  it.each([
    ['onto itself', 1, () => 0],
    ['three pages back to the second', 3, (i: number) => (i === 2 ? 1 : i + 1)],
    ['forty pages back to the first', 40, (i: number) => (i === 39 ? 0 : i + 1)],
  ])('refuses a chain of pages that loops %s, at once', async (_, pages, back) => {
    tiffWithChain(p('loop.tif'), pages, (i, ifdAt) => ifdAt[back(i)]!);
    const started = Date.now();
    const error = await refusal(openStackFile(p('loop.tif')));
    expect(error.code).toBe('BAD_HEADER');
    expect(error.message).toMatch(
      /loop\.tif: not a readable TIFF \(its chain of pages loops back to the IFD at byte \d+\)/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('ends a chain that zig-zags across a small file once it has read twice the file (one read a page otherwise)', async () => {
    // 4,000 pages whose IFDs alternate between two regions 1 MiB apart: a block read per page.
    const pages = 4000;
    const ifd = 2 + 4 * 12 + 4;
    const at = (i: number) => 8 + (i % 2) * (1 << 20) + Math.floor(i / 2) * ifd;
    const file = Buffer.alloc(8 + (1 << 20) + (pages / 2) * ifd);
    file.write('II', 0, 'latin1');
    file.writeUInt16LE(42, 2);
    file.writeUInt32LE(at(0), 4);
    for (let i = 0; i < pages; i++) {
      file.writeUInt16LE(4, at(i));
      for (let e = 0; e < 4; e++) file.writeUInt16LE(256 + e, at(i) + 2 + e * 12);
      file.writeUInt32LE(i + 1 < pages ? at(i + 1) : 0, at(i) + 2 + 4 * 12);
    }
    writeFileSync(p('zigzag.tif'), file);
    const source = await FileByteSource.open(p('zigzag.tif'));
    let read = 0;
    const counted = {
      ...source,
      name: source.name,
      size: source.size,
      read: (position: number, target: Uint8Array) => {
        read += target.length;
        return source.read(position, target);
      },
      close: () => source.close(),
    };
    const error = await refusal(countTiffPages(counted));
    expect(error.message).toMatch(
      /zigzag\.tif: not a readable TIFF \(its pages' IFDs are scattered so that counting them reads more than twice the file\)/,
    );
    expect(read).toBeLessThanOrEqual(2 * file.length + 2 * 16 * 1024);
    await source.close();
  });

  it('stops at a declared depth, and refuses IFDs too short to be a page', async () => {
    tiffWithChain(p('deep.tif'), 40, (i, ifdAt) => (i === 39 ? 0 : ifdAt[i + 1]!));
    const deeper = await refusal(openStackFile(p('deep.tif'), { shapeZyx: [30, 4, 4] }));
    expect(deeper.code).toBe('SHAPE_MISMATCH');
    expect(deeper.message).toMatch(/deep\.tif: has more than the 30 pages its declared shape says/);
    const bytes = readFileSync(p('deep.tif'));
    bytes.writeUInt16LE(3, 40); // the first IFD's entry count
    writeFileSync(p('short-ifd.tif'), bytes);
    const short = await refusal(openStackFile(p('short-ifd.tif')));
    expect(short.message).toMatch(/the IFD at byte 40 has 3 entries, too few for a page/);
  });

  it("lets the source's own failures through as they are (an S3 outage is retried, not a bad file)", async () => {
    tiffWithChain(p('two.tif'), 2, (i, ifdAt) => (i === 1 ? 0 : ifdAt[1]!));
    const file = await FileByteSource.open(p('two.tif'));
    let failing = false;
    const outage = Object.assign(new Error('s3://raw/two.tif: socket hang up'), { name: 'StorageError' });
    const flaky = {
      name: 'two.tif',
      size: file.size,
      close: () => file.close(),
      read: (position: number, target: Uint8Array) =>
        failing ? Promise.reject(outage) : file.read(position, target),
    };
    const { openTiff } = await import('../src/tiff-reader.js');
    const reader = await openTiff(flaky);
    failing = true;
    const error = await (async () => {
      for await (const _ of reader.slabs(1)) void _;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBe(outage);
    await reader.close();
  });

  it('reads the same chain when it ends', async () => {
    tiffWithChain(p('chain.tif'), 40, (i, ifdAt) => (i === 39 ? 0 : ifdAt[i + 1]!));
    const reader = await openStackFile(p('chain.tif'));
    expect(reader.shapeZyx).toEqual([40, 4, 4]);
    await reader.close();
  });

  it('refuses offsets past the end and structures geotiff cannot parse as BAD_HEADER, not a crash', async () => {
    writeFileSync(
      p('past-end.tif'),
      Buffer.from([0x49, 0x49, 0x2a, 0, 0xa0, 0x86, 0x01, 0, ...Buffer.alloc(8)]),
    );
    const junk = Buffer.alloc(8 + 2 + 20, 1);
    junk.write('II', 0, 'latin1');
    junk.writeUInt16LE(42, 2);
    junk.writeUInt32LE(8, 4);
    junk.writeUInt16LE(500, 8); // 500 entries claimed, 20 bytes there
    writeFileSync(p('junk.tif'), junk);
    tiffWithChain(p('bad-type.tif'), 1, () => 0);
    const bytes = readFileSync(p('bad-type.tif'));
    bytes.writeUInt16LE(257, 40 + 2 + 2); // the first entry's field type: no such type
    writeFileSync(p('bad-type.tif'), bytes);
    for (const [name, why] of [
      ['past-end.tif', /outside the file/],
      ['junk.tif', /ends inside the structure/],
      ['bad-type.tif', /page 0|header/],
    ] as const) {
      const error = await refusal(openStackFile(p(name)));
      expect(error.code, name).toBe('BAD_HEADER');
      expect(error.message).toMatch(new RegExp(`${name.replace('.', '\\.')}: not a readable TIFF`));
      expect(error.message).toMatch(why);
    }
  });
});

describe('TIFF compression', () => {
  it('refuses with the header one geotiff cannot decode, naming it (it had failed mid-conversion, unnamed)', async () => {
    execFileSync(PYTHON, [
      '-c',
      'import numpy as np, tifffile, sys\ntifffile.imwrite(sys.argv[1], np.zeros((3, 8, 8), "<u2"), compression="lzma")',
      p('lzma.tif'),
    ]);
    const error = await refusal(openStackFile(p('lzma.tif')));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(
      /lzma\.tif: TIFF compression LZMA \(34925\) is not supported; save it uncompressed or with LZW, deflate, PackBits/,
    );
  });
});

describe('files that are not regular files', () => {
  it('refuses a device without opening it', async () => {
    const error = await refusal(FileByteSource.open('/dev/null', 'file:///dev/null'));
    expect(error.message).toBe('file:///dev/null: not a regular file (a device)');
  });

  it('refuses a named pipe without waiting for a writer, and a directory', async () => {
    execFileSync('mkfifo', [p('pipe.npy')]);
    mkdirSync(p('folder.npy'));
    const pipe = await refusal(openStackFile(p('pipe.npy')));
    expect(pipe.message).toBe(`${p('pipe.npy')}: not a regular file (a named pipe)`);
    const folder = await refusal(FileByteSource.open(p('folder.npy'), 'file:///x/folder.npy'));
    expect(folder.message).toBe('file:///x/folder.npy: not a regular file (a directory)');
    expect(folder.code).toBe('NOT_FOUND');
  });
});
