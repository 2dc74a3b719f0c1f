import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, tempDir } from '../../../test/support/oracle.js';
import { FileByteSource, openStackFile, StackError, type StackReader } from '../src/index.js';
import { openTiff } from '../src/tiff-reader.js';
import { MAX_DESCRIPTION_BYTES } from '../src/tiff-metadata.js';

// ImageJ hyperstacks and OME-TIFFs of several channels, timepoints or series hold more than one
// stack's z-planes in their pages: read as pages, the channels became alternating z-planes.

const dir = tempDir('bdv-hyperstacks-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());

/** Writes each fixture with tifffile: `a` is a seeded uint16 array of the shape, `extra` the imwrite arguments. */
function write(files: { name: string; shape: number[]; extra: string; description?: string }[]): void {
  const lines = ['import numpy as np, tifffile, sys', 'rng = np.random.default_rng(7)'];
  files.forEach(({ shape, extra, description }, i) => {
    lines.push(`a = rng.integers(0, 65536, size=${JSON.stringify(shape)}).astype('<u2')`);
    lines.push(`np.save(sys.argv[${i + 1}] + '.npy', a)`);
    const described = description === undefined ? '' : `, description=${description}`;
    lines.push(`tifffile.imwrite(sys.argv[${i + 1}], a${extra ? `, ${extra}` : ''}${described})`);
  });
  execFileSync(PYTHON, ['-c', lines.join('\n'), ...files.map(({ name }) => p(name))]);
}

/** The array written, as tifffile was given it, flattened to uint16 in C order. */
function written(name: string): Uint16Array {
  const bytes = readFileSync(`${p(name)}.npy`);
  const headerLength = bytes.readUInt16LE(8);
  const data = bytes.subarray(10 + headerLength);
  return new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

async function readAll(reader: StackReader): Promise<Uint16Array> {
  const [nz, ny, nx] = reader.shapeZyx;
  const all = new Uint16Array(nz * ny * nx);
  let offset = 0;
  for await (const slab of reader.slabs(3)) {
    all.set(slab, offset);
    offset += slab.length;
  }
  await reader.close();
  return all;
}

async function refusal(name: string): Promise<StackError> {
  const error = await openStackFile(p(name)).then(
    async (reader) => {
      await reader.close();
      return new Error(`${name} was read as ${reader.shapeZyx.join('x')}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StackError);
  expect((error as StackError).code).toBe('UNSUPPORTED');
  expect((error as StackError).file).toBe(p(name));
  return error as StackError;
}

const SPLIT =
  'not one z-stack; split it into one file per channel and timepoint, e.g. in Fiji Image > Stacks > Tools > Reduce Dimensionality or with tifffile, then convert those';

beforeAll(() => {
  write([
    { name: 'ij-zcyx.tif', shape: [4, 2, 64, 64], extra: "imagej=True, metadata={'axes': 'ZCYX'}" },
    { name: 'ij-tzyx.tif', shape: [2, 8, 16, 16], extra: "imagej=True, metadata={'axes': 'TZYX'}" },
    { name: 'ij-zyx.tif', shape: [6, 20, 24], extra: "imagej=True, metadata={'axes': 'ZYX'}" },
    // tifffile's default for a 3D array written for ImageJ without axes: 6 channels.
    { name: 'ij-unlabelled.tif', shape: [6, 20, 24], extra: 'imagej=True' },
    { name: 'zcyx.ome.tif', shape: [4, 2, 33, 17], extra: "metadata={'axes': 'ZCYX'}" },
    { name: 'tzyx.ome.tif', shape: [3, 5, 33, 17], extra: "metadata={'axes': 'TZYX'}" },
    { name: 'zyx.ome.tif', shape: [5, 33, 17], extra: "metadata={'axes': 'ZYX'}" },
    { name: 'zcyx-shaped.tif', shape: [4, 2, 33, 17], extra: '' },
    { name: 'zyx-shaped.tif', shape: [1, 5, 33, 17], extra: '' },
    // Descriptions that only look like metadata: read as plain pages.
    {
      name: 'not-ome.tif',
      shape: [3, 8, 8],
      extra: "metadata=None, photometric='minisblack'",
      description: '"<OME> <Pixels SizeC=\\"x2\\" SizeT=\\"\\" SizeZ=\\"1 <Image"',
    },
    {
      name: 'not-imagej.tif',
      shape: [3, 8, 8],
      extra: "metadata=None, photometric='minisblack'",
      description: '"ImageJ=\\nchannels=two\\nframes=-3\\nimages=1e9\\nslices=" + "9" * 5000',
    },
    {
      name: 'not-json.tif',
      shape: [3, 8, 8],
      extra: "metadata=None, photometric='minisblack'",
      description: '\'{"shape": [4, 2, "8", 8], "axes": 7\'',
    },
  ]);
  // Several series in one OME-TIFF, each a single-channel z-stack.
  execFileSync(PYTHON, [
    '-c',
    [
      'import numpy as np, tifffile, sys',
      'with tifffile.TiffWriter(sys.argv[1], ome=True) as w:',
      "  w.write(np.zeros((5, 8, 8), '<u2'), metadata={'axes': 'ZYX'})",
      "  w.write(np.ones((3, 8, 8), '<u2'), metadata={'axes': 'ZYX'})",
    ].join('\n'),
    p('series.ome.tif'),
  ]);
});

describe('TIFF hyperstacks', () => {
  it('refuses an ImageJ hyperstack of 2 channels, saying what its description says and what to do', async () => {
    const error = await refusal('ij-zcyx.tif');
    expect(error.message).toBe(
      `${p('ij-zcyx.tif')}: is an ImageJ hyperstack of 2 channels x 4 slices (axes from its ImageDescription), ${SPLIT}`,
    );
  });

  it('refuses an ImageJ hyperstack of timepoints', async () => {
    const error = await refusal('ij-tzyx.tif');
    expect(error.message).toBe(
      `${p('ij-tzyx.tif')}: is an ImageJ hyperstack of 8 slices x 2 frames (axes from its ImageDescription), ${SPLIT}`,
    );
  });

  it('refuses a 3D array tifffile labelled channels for ImageJ, saying how to label it z', async () => {
    const error = await refusal('ij-unlabelled.tif');
    expect(error.message).toMatch(/ij-unlabelled\.tif: is an ImageJ hyperstack of 6 channels \(axes from/);
    expect(error.message).toMatch(/if its pages are in fact z-planes, write it with axes ZYX/);
  });

  it('reads a plain ImageJ z-stack, pixel for pixel', async () => {
    const reader = await openStackFile(p('ij-zyx.tif'));
    expect(reader.shapeZyx).toEqual([6, 20, 24]);
    expect(await readAll(reader)).toEqual(written('ij-zyx.tif'));
  });

  it('refuses an OME-TIFF of 2 channels, and one of 3 timepoints', async () => {
    expect((await refusal('zcyx.ome.tif')).message).toBe(
      `${p('zcyx.ome.tif')}: is an OME-TIFF with SizeC=2, SizeT=1 (from its ImageDescription), ${SPLIT}`,
    );
    expect((await refusal('tzyx.ome.tif')).message).toBe(
      `${p('tzyx.ome.tif')}: is an OME-TIFF with SizeC=1, SizeT=3 (from its ImageDescription), ${SPLIT}`,
    );
  });

  it('refuses an OME-TIFF of several series', async () => {
    expect((await refusal('series.ome.tif')).message).toMatch(
      /series\.ome\.tif: is an OME-TIFF of several images \(series, from its ImageDescription\), not one z-stack; split it into one file per image/,
    );
  });

  it('reads a single-channel OME-TIFF z-stack, pixel for pixel', async () => {
    const reader = await openStackFile(p('zyx.ome.tif'));
    expect(reader.shapeZyx).toEqual([5, 33, 17]);
    expect(await readAll(reader)).toEqual(written('zyx.ome.tif'));
  });

  it("refuses a 4D array in tifffile's own description, reads a 3D one", async () => {
    expect((await refusal('zcyx-shaped.tif')).message).toBe(
      `${p('zcyx-shaped.tif')}: is a tifffile array of shape (4, 2, 33, 17) (from its ImageDescription), ${SPLIT}`,
    );
    const reader = await openStackFile(p('zyx-shaped.tif'));
    expect(reader.shapeZyx).toEqual([5, 33, 17]);
    expect(await readAll(reader)).toEqual(written('zyx-shaped.tif'));
  });

  it('refuses an OME-TIFF whose SizeZ is not its page count, and an ImageJ one whose images are not', async () => {
    // The same files with their descriptions' counts changed in place (same length).
    const patch = (from: string, to: string, find: string, replace: string) => {
      const bytes = readFileSync(p(from));
      const at = bytes.indexOf(find, 0, 'latin1');
      expect(at).toBeGreaterThan(0);
      bytes.write(replace, at, 'latin1');
      writeFileSync(p(to), bytes);
    };
    patch('zyx.ome.tif', 'z1.ome.tif', 'SizeZ="5"', 'SizeZ="1"');
    expect((await refusal('z1.ome.tif')).message).toMatch(
      /z1\.ome\.tif: is an OME-TIFF with SizeZ=1 \(from its ImageDescription\) in 5 pages, not one z-stack; re-save it/,
    );
    patch('ij-zyx.tif', 'ij-images.tif', 'images=6', 'images=9');
    expect((await refusal('ij-images.tif')).message).toMatch(
      /ij-images\.tif: is an ImageJ image of 9 planes \(from its ImageDescription\) in 6 pages/,
    );
  });
});

describe('hyperstacks described otherwise (second review)', () => {
  beforeAll(() => {
    const hyperstack = (separator: string, spacing: string) =>
      JSON.stringify(
        ['ImageJ=1.54f', 'images=10', `channels${spacing}2`, `slices${spacing}5`, ''].join(separator),
      );
    write([
      // ImageJ reads Java properties: spaces around '=', ':' for '=', CR-only lines, leading blanks
      {
        name: 'ij-spaced.tif',
        shape: [10, 8, 8],
        extra: 'metadata=None',
        description: hyperstack('\n', ' = '),
      },
      { name: 'ij-cr.tif', shape: [10, 8, 8], extra: 'metadata=None', description: hyperstack('\r', '=') },
      {
        name: 'ij-colon.tif',
        shape: [10, 8, 8],
        extra: 'metadata=None',
        description: hyperstack('\n ', ':'),
      },
      // a lone labelled channel axis
      { name: 'cyx.tif', shape: [2, 8, 8], extra: "metadata={'axes': 'CYX'}" },
    ]);
    execFileSync(PYTHON, [
      '-c',
      [
        'import numpy as np, tifffile, sys',
        // Micro-Manager: its own description first, the ImageJ one in a second tag
        "ij = 'ImageJ=1.54f\\nimages=10\\nchannels=2\\nslices=5\\nhyperstack=true\\n'",
        "tifffile.imwrite(sys.argv[1], np.zeros((10, 8, 8), '<u2'), description='Micro-Manager', metadata=None, extratags=[(270, 's', 0, ij, True)])",
        // two series appended: the first description declares 5 of the 10 pages
        'with tifffile.TiffWriter(sys.argv[2]) as w:',
        "  w.write(np.zeros((5, 8, 8), '<u2'))",
        "  w.write(np.ones((5, 8, 8), '<u2'))",
        'with tifffile.TiffWriter(sys.argv[3]) as w:',
        "  for z in range(3): w.write(np.full((8, 8), z, '<u2'))",
      ].join('\n'),
      p('mm.tif'),
      p('two-series.tif'),
      p('planes.tif'),
    ]);
  });

  it.each(['ij-spaced.tif', 'ij-cr.tif', 'ij-colon.tif'])('refuses %s', async (name) => {
    expect((await refusal(name)).message).toMatch(/is an ImageJ hyperstack of 2 channels x 5 slices/);
  });

  it('reads every ImageDescription of the first page (Micro-Manager writes two)', async () => {
    expect((await refusal('mm.tif')).message).toMatch(/is an ImageJ hyperstack of 2 channels x 5 slices/);
  });

  it('refuses an axis labelled channels even alone', async () => {
    expect((await refusal('cyx.tif')).message).toMatch(/shape \(2, 8, 8\) and axes CYX/);
  });

  it('reads a z-stack written plane by plane, or in batches of planes (one description per write)', async () => {
    const reader = await openStackFile(p('two-series.tif'));
    expect(reader.shapeZyx).toEqual([10, 8, 8]);
    await reader.close();
    const planes = await openStackFile(p('planes.tif'));
    expect(planes.shapeZyx).toEqual([3, 8, 8]);
    expect(Array.from(await readAll(planes)).filter((_, i) => i % 64 === 0)).toEqual([0, 1, 2]);
  });
});

describe('TIFF descriptions that are not what they look like', () => {
  it.each(['not-ome.tif', 'not-imagej.tif', 'not-json.tif'])(
    'reads %s, whose description is malformed, as plain pages',
    async (name) => {
      const reader = await openStackFile(p(name));
      expect(reader.shapeZyx).toEqual([3, 8, 8]);
      expect(await readAll(reader)).toEqual(written(name));
    },
  );

  it('reads no more of a huge description than it looks at, and no more than is there', async () => {
    // 2-channel OMEs whose Pixels come after a comment: 200 KiB of it (looked at: refused), 4 MiB
    // (past what is looked at: read as plain pages, in reads no larger than that).
    execFileSync(PYTHON, [
      '-c',
      [
        'import numpy as np, tifffile, sys',
        'for path, pad in ((sys.argv[1], 200 << 10), (sys.argv[2], 4 << 20)):',
        '  xml = \'<?xml version="1.0"?><OME><!--\' + \'x\' * pad + \'--><Image><Pixels SizeC="2" SizeZ="2" SizeT="1"/></Image></OME>\'',
        "  tifffile.imwrite(path, np.zeros((4, 8, 8), '<u2'), description=xml, metadata=None, photometric='minisblack')",
      ].join('\n'),
      p('near.ome.tif'),
      p('huge.ome.tif'),
    ]);
    expect((await refusal('near.ome.tif')).message).toMatch(
      /near\.ome\.tif: is an OME-TIFF with SizeC=2, SizeT=1/,
    );
    const reads: number[] = [];
    const source = await FileByteSource.open(p('huge.ome.tif'));
    const counted = {
      name: source.name,
      size: source.size,
      read: (position: number, target: Uint8Array) => (
        reads.push(target.length),
        source.read(position, target)
      ),
      close: () => source.close(),
    };
    const reader = await openTiff(counted);
    expect(reader.shapeZyx).toEqual([4, 8, 8]);
    expect(Math.max(...reads)).toBeLessThanOrEqual(MAX_DESCRIPTION_BYTES);
    await reader.close();
  });

  it('reads a description claiming 4 GiB only as far as the file goes', async () => {
    /** The file with its ImageDescription's count set to 4 GiB - 1, and its offset moved by `move`. */
    const claiming = (from: string, to: string, move: (offset: number, size: number) => number) => {
      const bytes = readFileSync(p(from));
      const ifd = bytes.readUInt32LE(4);
      const entries = bytes.readUInt16LE(ifd);
      const at = Array.from({ length: entries }, (_, i) => ifd + 2 + i * 12).find(
        (entry) => bytes.readUInt16LE(entry) === 270,
      )!;
      bytes.writeUInt32LE(0xffffffff, at + 4);
      bytes.writeUInt32LE(move(bytes.readUInt32LE(at + 8), bytes.length), at + 8);
      writeFileSync(p(to), bytes);
    };
    claiming('ij-zcyx.tif', 'claims-zcyx.tif', (offset) => offset);
    expect((await refusal('claims-zcyx.tif')).message).toMatch(/ImageJ hyperstack of 2 channels x 4 slices/);
    claiming('ij-zyx.tif', 'claims-end.tif', (_, size) => size - 3);
    const reader = await openStackFile(p('claims-end.tif'));
    expect(reader.shapeZyx).toEqual([6, 20, 24]);
    expect(await readAll(reader)).toEqual(written('ij-zyx.tif'));
  });

  it('takes bounded time over descriptions crafted against its patterns', async () => {
    const padded = (text: string) => `"${text}" * ((250 << 10) // ${text.length})`;
    write([
      {
        name: 'tags.tif',
        shape: [3, 8, 8],
        extra: "metadata=None, photometric='minisblack'",
        description: `'<OME ' + ${padded('<x:Pixels SizeC=')}`,
      },
      {
        name: 'prefixes.tif',
        shape: [3, 8, 8],
        extra: "metadata=None, photometric='minisblack'",
        description: `'<OME>' + ${padded('<' + 'a'.repeat(70))}`,
      },
      {
        name: 'lines.tif',
        shape: [3, 8, 8],
        extra: "metadata=None, photometric='minisblack'",
        description: `'ImageJ=1\\n' + ${padded('\\nchannels=')}`,
      },
    ]);
    // Tens of thousands of Pixels tags: several series (refused); the others are nothing.
    let started = Date.now();
    expect((await refusal('tags.tif')).message).toMatch(/several images/);
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const name of ['prefixes.tif', 'lines.tif']) {
      started = Date.now();
      const reader = await openStackFile(p(name));
      expect(reader.shapeZyx, name).toEqual([3, 8, 8]);
      await reader.close();
      expect(Date.now() - started, name).toBeLessThan(1_000);
    }
  });
});
