import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  child,
  children,
  comparePixels,
  describeBdv,
  numbers,
  tempDir,
} from '../../../test/support/oracle.js';
import { BdvWriter, type Zyx } from '../src/index.js';

const dir = tempDir('bdv-writer-');
afterAll(() => dir.remove());

function randomStack(shape: Zyx, seed: number): Uint16Array {
  const a = new Uint16Array(shape[0] * shape[1] * shape[2]);
  let x = seed;
  for (let i = 0; i < a.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    a[i] = x >>> 16;
  }
  return a;
}

/** Saves the stack as raw little-endian uint16 so the Python oracle reads the same input. */
function saveRaw(name: string, stack: Uint16Array): string {
  const path = join(dir.path, name);
  writeFileSync(path, Buffer.from(stack.buffer, stack.byteOffset, stack.byteLength));
  return path;
}

describe('BdvWriter', () => {
  it('writes 2 tiles x 2 channels x 2 timepoints with gzip, 3 levels, different sizes and a missing view', async () => {
    const h5 = join(dir.path, 'multi.h5');
    const subsampling = [
      [1, 1, 1],
      [2, 2, 2],
      [4, 4, 4],
    ];
    const writer = await BdvWriter.create(h5, {
      setup: { channels: 2, tiles: 2 },
      subsamplingZyx: subsampling,
      blockSizeZyx: [
        [4, 16, 16],
        [2, 16, 16],
        [1, 8, 8],
      ],
      compression: 'gzip',
      slabBytes: 4096, // many small slabs: exercises re-buffering
    });
    writer.setAttributeLabels('channel', ['488', '561']);
    const views: { time: number; setup: number; raw: { path: string; shape: number[]; dtype: string } }[] =
      [];
    for (const time of [0, 1]) {
      for (const channel of [0, 1]) {
        for (const tile of [0, 1]) {
          if (time === 1 && channel === 1 && tile === 1) continue; // the missing view
          const shape: Zyx = tile === 0 ? [9, 21, 19] : [6, 16, 32];
          const stack = randomStack(shape, 1 + time * 10 + channel * 3 + tile);
          const record = await writer.appendView(
            { shapeZyx: shape, data: stack },
            {
              time,
              channel,
              tile,
              voxelSizeXyz: [0.5, 0.5, 2 + tile],
              voxelUnits: 'um',
              calibrationXyz: [1, 1, 4],
              affine: [1, 0, 0, tile * 100.5, 0, 1, 0, 0, 0, 0, 1, -channel],
              exposureTime: 0.02,
              exposureUnits: 'ms',
              cameraName: 'Orca',
            },
          );
          views.push({
            time,
            setup: record.setupId,
            raw: { path: saveRaw(`v${time}${channel}${tile}.raw`, stack), shape, dtype: '<u2' },
          });
        }
      }
    }
    await writer.writeXml({ microscope: { name: 'mesoSPIM', version: '1.2', user: 'ada' } });
    await writer.close();

    for (const view of comparePixels({ h5, subsampling_zyx: subsampling, views })) {
      for (const level of view.levels) {
        expect(level.dtype).toBe('<i2');
        expect(level.shape).toEqual(level.expected_shape);
        expect(level.mismatches, `t${view.time} s${view.setup} level ${level.level}`).toBe(0);
      }
    }

    const d = describeBdv(h5, writer.xmlPath);
    for (let s = 0; s < 4; s++) {
      expect(d.h5.values[`s0${s}/resolutions`]).toEqual([
        [1, 1, 1],
        [2, 2, 2],
        [4, 4, 4],
      ]);
      expect(d.h5.values[`s0${s}/subdivisions`]).toEqual([
        [16, 16, 4],
        [16, 16, 2],
        [8, 8, 1],
      ]);
      expect(d.h5.datasets[`s0${s}/resolutions`]!.dtype).toBe('<f8');
      expect(d.h5.datasets[`s0${s}/subdivisions`]!.dtype).toBe('<i4');
    }
    const cells = d.h5.datasets['t00000/s01/2/cells']!;
    expect(cells).toMatchObject({
      dtype: '<i2',
      chunks: [1, 8, 8],
      compression: 'gzip',
      compression_opts: 4,
      shape: [2, 4, 8],
    });
    expect(d.h5.datasets['t00001/s03/0/cells']).toBeUndefined();
    expect(d.h5.attrs).toEqual({});

    const xml = d.xml!;
    const seq = child(xml, 'SequenceDescription');
    expect(child(child(seq, 'ImageLoader'), 'hdf5').text).toBe('multi.h5');
    const setups = children(child(seq, 'ViewSetups'), 'ViewSetup');
    expect(setups.map((s) => child(s, 'id').text)).toEqual(['0', '1', '2', '3']);
    expect(child(setups[1]!, 'size').text).toBe('32 16 6');
    expect(numbers(child(child(setups[1]!, 'voxelSize'), 'size').text)).toEqual([0.5, 0.5, 3]);
    expect(child(child(setups[0]!, 'camera'), 'name').text).toBe('Orca');
    const attrBlocks = children(child(seq, 'ViewSetups'), 'Attributes').map((a) => a.attrib.name);
    expect(attrBlocks).toEqual(['illumination', 'channel', 'angle', 'tile']);
    const channelNames = children(children(child(seq, 'ViewSetups'), 'Attributes')[1]!, 'Channel').map(
      (c) => child(c, 'name').text,
    );
    expect(channelNames).toEqual(['488', '561']);
    const missing = children(child(seq, 'MissingViews'), 'MissingView').map((m) => m.attrib);
    expect(missing).toEqual([{ timepoint: '1', setup: '3' }]);
    const regs = children(child(xml, 'ViewRegistrations'), 'ViewRegistration');
    expect(regs).toHaveLength(7);
    const reg = regs.find((r) => r.attrib.timepoint === '1' && r.attrib.setup === '1')!;
    const transforms = children(reg, 'ViewTransform');
    expect(transforms.map((t) => child(t, 'Name').text)).toEqual(['manually defined', 'calibration']);
    expect(numbers(child(transforms[0]!, 'affine').text)).toEqual([1, 0, 0, 100.5, 0, 1, 0, 0, 0, 0, 1, 0]);
    expect(numbers(child(transforms[1]!, 'affine').text)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 4, 0]);
    const microscope = child(child(xml, 'generatedBy'), 'microscope');
    expect(child(microscope, 'name').text).toBe('mesoSPIM');
  });

  it.each(['none', 'lzf'] as const)(
    'writes one view with %s compression, default blocks',
    async (compression) => {
      const h5 = join(dir.path, `one-${compression}.h5`);
      const shape: Zyx = [10, 40, 30];
      const stack = randomStack(shape, 99);
      const writer = await BdvWriter.create(h5, { compression });
      await writer.appendView({ shapeZyx: shape, data: stack });
      await writer.writeXml();
      await writer.close();
      const [view] = comparePixels({
        h5,
        subsampling_zyx: [[1, 1, 1]],
        views: [
          { time: 0, setup: 0, raw: { path: saveRaw(`one-${compression}.raw`, stack), shape, dtype: '<u2' } },
        ],
      });
      expect(view!.levels[0]!.mismatches).toBe(0);
      const cells = describeBdv(h5).h5.datasets['t00000/s00/0/cells']!;
      expect(cells.chunks).toEqual([4, 256, 256]);
      expect(cells.maxshape).toEqual([-1, -1, -1]);
      expect(cells.compression).toBe(compression === 'none' ? null : 'lzf');
    },
  );

  it('refuses to overwrite an existing file unless told, and rejects bad input before writing', async () => {
    const h5 = join(dir.path, 'exists.h5');
    const first = await BdvWriter.create(h5);
    await first.appendView({ shapeZyx: [2, 3, 4], data: new Uint16Array(24) });
    await expect(first.appendView({ shapeZyx: [2, 3, 4], data: new Uint16Array(24) })).rejects.toThrow(
      /already written/,
    );
    await expect(
      first.appendView({ shapeZyx: [2, 3, 4], data: new Uint16Array(24) }, { channel: 1 }),
    ).rejects.toThrow(/channel index 1/);
    await expect(
      first.appendView({ shapeZyx: [2, 3, 4], data: new Uint16Array(24) }, { time: 1, affine: [1, 2, 3] }),
    ).rejects.toThrow(/affine/);
    await expect(
      first.appendView({ shapeZyx: [3, 3, 4], slabs: [new Uint16Array(24)] }, { time: 1 }),
    ).rejects.toThrow(/ended after 2 of 3 planes/);
    await first.close();
    await expect(BdvWriter.create(h5)).rejects.toThrow(/already exists/);
    await expect(BdvWriter.create(h5, { compression: 'zstd' as never, overwrite: true })).rejects.toThrow(
      /compression/,
    );
    await expect(BdvWriter.create(h5, { subsamplingZyx: [[1, 1, 0]], overwrite: true })).rejects.toThrow(
      /subsamplingZyx\[0\]/,
    );
    const again = await BdvWriter.create(h5, { overwrite: true });
    await again.close();
    // An XML alone is an output too; replacing the .h5 takes the old XML away at once, so a run
    // stopped before its own XML never leaves the old one describing a new file cut short.
    const xmlOnly = join(dir.path, 'registered.xml');
    writeFileSync(xmlOnly, '<SpimData/>');
    await expect(BdvWriter.create(join(dir.path, 'registered.h5'))).rejects.toMatchObject({
      code: 'FILE_EXISTS',
      message: expect.stringMatching(/registered\.xml already exists/),
    });
    expect(readFileSync(xmlOnly, 'utf8')).toBe('<SpimData/>');
    writeFileSync(join(dir.path, 'exists.xml'), '<SpimData/>');
    const replacing = await BdvWriter.create(h5, { overwrite: true });
    expect(existsSync(join(dir.path, 'exists.xml'))).toBe(false);
    await replacing.close();
  });

  it('writes planes and substacks of a virtual view like the streaming path', async () => {
    const shape: Zyx = [6, 18, 14];
    const stack = randomStack(shape, 5);
    const plane = shape[1] * shape[2];
    const h5 = join(dir.path, 'virtual.h5');
    const writer = await BdvWriter.create(h5, {
      subsamplingZyx: [
        [1, 1, 1],
        [1, 4, 4],
      ],
      blockSizeZyx: [[2, 8, 8]],
    });
    await writer.beginVirtualView([...shape]);
    for (let z = 0; z < shape[0]; z++) writer.appendPlane(stack.subarray(z * plane, (z + 1) * plane), z);
    await writer.beginVirtualView([...shape], { time: 1 });
    writer.appendSubstack(stack.subarray(0, 3 * plane), [3, 18, 14], [0, 0, 0], { time: 1 });
    writer.appendSubstack(stack.subarray(3 * plane), [3, 18, 14], [3, 0, 0], { time: 1 });
    expect(() => writer.appendPlane(new Uint16Array(plane), 6)).toThrow(/plane index 6/);
    await writer.writeXml();
    await writer.close();
    const raw = { path: saveRaw('virtual.raw', stack), shape, dtype: '<u2' };
    for (const view of comparePixels({
      h5,
      subsampling_zyx: [
        [1, 1, 1],
        [1, 4, 4],
      ],
      views: [
        { time: 0, setup: 0, raw },
        { time: 1, setup: 0, raw },
      ],
    })) {
      for (const level of view.levels) expect(level.mismatches).toBe(0);
    }
  });

  it('writes the partitioned layout: one file per view, linked from the master', async () => {
    const h5 = join(dir.path, 'part.h5');
    const writer = await BdvWriter.create(h5, {
      layout: 'partitioned',
      setup: { tiles: 2 },
      subsamplingZyx: [
        [1, 1, 1],
        [2, 2, 2],
      ],
    });
    const shape: Zyx = [5, 12, 10];
    const stacks = [randomStack(shape, 11), randomStack(shape, 12)];
    for (const tile of [0, 1]) await writer.appendView({ shapeZyx: shape, data: stacks[tile]! }, { tile });
    await writer.writeXml();
    await writer.close();
    const d = describeBdv(h5, writer.xmlPath);
    expect(d.h5.datasets['t00000/s01/1/cells']!.external).toBe('part-t00000-s01.h5');
    const views = [0, 1].map((tile) => ({
      time: 0,
      setup: tile,
      raw: { path: saveRaw(`part${tile}.raw`, stacks[tile]!), shape, dtype: '<u2' },
    }));
    for (const view of comparePixels({
      h5,
      subsampling_zyx: [
        [1, 1, 1],
        [2, 2, 2],
      ],
      views,
    })) {
      for (const level of view.levels) expect(level.mismatches).toBe(0);
    }
    const loader = child(child(d.xml!, 'SequenceDescription'), 'ImageLoader');
    expect(children(loader, 'partition').map((p) => child(p, 'path').text)).toEqual([
      'part-t00000-s00.h5',
      'part-t00000-s01.h5',
    ]);
  });
});
