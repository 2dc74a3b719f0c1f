import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import {
  chooseLevel,
  contactSheetPng,
  contrastWindowOf,
  fitInto,
  histogramOf,
  percentileOf,
  sheetLayout,
  sheetProblem,
  toGray8,
} from '../src/preview/index.js';
import type { Zyx } from '../src/index.js';
import { emptyProjection, foldSlab } from '../src/preview/projection.js';

// The pure parts of previews: percentiles and contrast, which pyramid level is read, maximum
// projection along each axis, and the contact sheet's layout.

describe('percentiles and contrast', () => {
  it('are nearest-rank percentiles of a 16-bit histogram', () => {
    // 1000 pixels: 998 at 100, one at 5000, one at 60000.
    const values = new Uint16Array(1000).fill(100);
    values[3] = 5000;
    values[999] = 60000;
    const h = histogramOf(values);
    expect(percentileOf(h, 0)).toBe(100);
    expect(percentileOf(h, 50)).toBe(100);
    expect(percentileOf(h, 99.8)).toBe(100); // rank 998
    expect(percentileOf(h, 99.9)).toBe(5000); // rank 999
    expect(percentileOf(h, 100)).toBe(60000);
    expect(percentileOf(new Uint32Array(65536), 50)).toBe(0);
    expect(() => percentileOf(h, 101)).toThrow(RangeError);
  });

  it('maps the 0.1..99.9 % window to 0..255 and ignores a few hot pixels', () => {
    // A ramp 1000..1999 (1000 pixels) plus one hot pixel at 65535.
    const values = new Uint16Array(1001);
    for (let i = 0; i < 1000; i++) values[i] = 1000 + i;
    values[1000] = 65535;
    const window = contrastWindowOf(histogramOf(values));
    expect(window).toEqual({ low: 1001, high: 1999 });
    const gray = toGray8(values, window);
    expect(gray[0]).toBe(0);
    expect(gray[999]).toBe(255);
    expect(gray[1000]).toBe(255);
    expect(gray[500]).toBe(Math.round((1500 - 1001) * (255 / 998)));
  });

  it('never divides by zero on a flat image', () => {
    const window = contrastWindowOf(histogramOf(new Uint16Array(100).fill(7)));
    expect(window).toEqual({ low: 7, high: 8 });
    expect([...toGray8(new Uint16Array([7, 8]), window)]).toEqual([0, 255]);
  });
});

describe('level choice', () => {
  const pyramid: Zyx[] = [
    [400, 2048, 2048],
    [200, 1024, 1024],
    [100, 512, 512],
    [50, 256, 256],
  ];

  it('takes the finest level whose projection fits (never a finer one)', () => {
    expect(chooseLevel(pyramid, 'z', 512)).toEqual({ level: 2, shrink: 1 });
    expect(chooseLevel(pyramid, 'z', 1024)).toEqual({ level: 1, shrink: 1 });
    expect(chooseLevel(pyramid, 'z', 2048)).toEqual({ level: 0, shrink: 1 });
    expect(chooseLevel(pyramid, 'z', 300)).toEqual({ level: 3, shrink: 1 });
  });

  it('looks at the projected axes only', () => {
    // Along y the image is z x x: level 0 is 400 x 2048, level 1 200 x 1024, level 2 fits.
    expect(chooseLevel(pyramid, 'y', 512)).toEqual({ level: 2, shrink: 1 });
    // A deep, narrow stack: along x the image is z x y = 4000 x 64 at level 0.
    expect(chooseLevel([[4000, 64, 64]], 'x', 512)).toEqual({ level: 0, shrink: 8 });
    expect(chooseLevel([[4000, 64, 64]], 'z', 512)).toEqual({ level: 0, shrink: 1 });
  });

  it('shrinks the coarsest level by the smallest integer that fits when none fits', () => {
    expect(chooseLevel([[100, 2048, 1500]], 'z', 512)).toEqual({ level: 0, shrink: 4 });
    expect(chooseLevel([[100, 2049, 1500]], 'z', 512)).toEqual({ level: 0, shrink: 5 });
    expect(
      chooseLevel(
        [
          [100, 2048, 2048],
          [50, 1100, 1024],
        ],
        'z',
        512,
      ),
    ).toEqual({ level: 1, shrink: 3 });
  });
});

describe('maximum projection', () => {
  // A 3 x 2 x 4 stack whose value encodes (z, y, x): 100 z + 10 y + x.
  const shape: Zyx = [3, 2, 4];
  const stack = new Uint16Array(24).map((_, i) => {
    const z = Math.floor(i / 8);
    const y = Math.floor((i % 8) / 4);
    return 100 * z + 10 * y + (i % 4);
  });
  const project = (axis: 'z' | 'y' | 'x', shrink = 1, slabPlanes = 1) => {
    const image = emptyProjection(shape, axis, shrink);
    for (let z = 0; z < 3; z += slabPlanes)
      foldSlab(image, stack.subarray(z * 8, Math.min(3, z + slabPlanes) * 8), shape, z, axis, shrink);
    return image;
  };

  it('along z, y and x, slab by slab', () => {
    expect(project('z')).toEqual({
      width: 4,
      height: 2,
      pixels: new Uint16Array([200, 201, 202, 203, 210, 211, 212, 213]),
    });
    expect(project('z', 1, 2).pixels).toEqual(project('z').pixels);
    expect(project('y')).toEqual({
      width: 4,
      height: 3,
      pixels: new Uint16Array([10, 11, 12, 13, 110, 111, 112, 113, 210, 211, 212, 213]),
    });
    expect(project('x')).toEqual({
      width: 2,
      height: 3,
      pixels: new Uint16Array([3, 13, 103, 113, 203, 213]),
    });
  });

  it('shrinks by the maximum of k x k blocks', () => {
    expect(project('z', 2)).toEqual({ width: 2, height: 1, pixels: new Uint16Array([211, 213]) });
    expect(project('y', 2)).toEqual({ width: 2, height: 2, pixels: new Uint16Array([111, 113, 211, 213]) });
  });

  it('shrinks with a partial last block like the per-pixel reference, random stacks and slabs', () => {
    let seed = 11;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
    for (let round = 0; round < 40; round++) {
      const s: Zyx = [1 + (next() % 6), 1 + (next() % 9), 1 + (next() % 11)];
      const data = new Uint16Array(s[0] * s[1] * s[2]).map(() => next());
      const k = 1 + (next() % 4);
      for (const axis of ['z', 'y', 'x'] as const) {
        const image = emptyProjection(s, axis, k);
        const slabPlanes = 1 + (next() % 3);
        for (let z = 0; z < s[0]; z += slabPlanes)
          foldSlab(
            image,
            data.subarray(z * s[1] * s[2], Math.min(s[0], z + slabPlanes) * s[1] * s[2]),
            s,
            z,
            axis,
            k,
          );
        const reference = emptyProjection(s, axis, k);
        data.forEach((v, i) => {
          const [z, y, x] = [Math.floor(i / (s[1] * s[2])), Math.floor(i / s[2]) % s[1], i % s[2]];
          const [row, col] = axis === 'z' ? [y, x] : axis === 'y' ? [z, x] : [z, y];
          const o = Math.floor(row / k) * reference.width + Math.floor(col / k);
          reference.pixels[o] = Math.max(reference.pixels[o]!, v);
        });
        expect(image, `${axis} ${s.join('x')} k=${k}`).toEqual(reference);
      }
    }
  });

  it('fits into a cell without losing a one-pixel bead', () => {
    const image = { width: 100, height: 50, pixels: new Uint16Array(5000) };
    image.pixels[37 * 100 + 61] = 900;
    const fitted = fitInto(image, 20);
    expect([fitted.width, fitted.height]).toEqual([20, 10]);
    expect(Math.max(...fitted.pixels)).toBe(900);
    expect(fitted.pixels[7 * 20 + 12]).toBe(900);
  });
});

describe('contact sheet layout', () => {
  const views = (channels: number, tiles: number) =>
    Array.from({ length: channels * tiles }, (_, i) => ({
      illumination: 0,
      angle: 0,
      channel: Math.floor(i / tiles),
      tile: i % tiles,
    }));

  it('puts channels in rows and tiles in columns, labelled by what varies', () => {
    const layout = sheetLayout(views(2, 3));
    expect([layout.rows, layout.columns, layout.cell]).toEqual([2, 3, 256]);
    expect(layout.width).toBe(2 + 3 * 258);
    expect(layout.height).toBe(2 + 2 * 258);
    expect(layout.places[0]).toEqual({ x: 2, y: 2 });
    expect(layout.places[5]).toEqual({ x: 2 + 2 * 258, y: 2 + 258 });
    expect(layout.labels).toEqual(['c0 s0', 'c0 s1', 'c0 s2', 'c1 s0', 'c1 s1', 'c1 s2']);
    expect(sheetLayout(views(1, 1)).labels).toEqual(['']);
  });

  it('tells whether a grid fits without placing it, with the reason sheetLayout gives', () => {
    // 2048 px: 113 columns leave cells of 16 px, 114 of 15
    expect(sheetProblem(views(113, 113))).toBeUndefined();
    expect(sheetProblem(views(1, 114))).toBe(
      'a contact sheet of 1 x 114 views needs cells of 15 px, less than 16: preview the views one by one',
    );
    expect(() => sheetLayout(views(1, 114))).toThrow(sheetProblem(views(1, 114)));
    expect(sheetProblem(views(114, 1))).toMatch(/^a contact sheet of 114 x 1 views/);
    expect(sheetProblem([])).toBeUndefined();
  });

  it('uses the indices that occur (gaps close up) and keeps within the longest side', () => {
    const layout = sheetLayout(
      [
        { illumination: 1, angle: 0, channel: 3, tile: 7 },
        { illumination: 0, angle: 0, channel: 3, tile: 2 },
      ],
      { maxSide: 300 },
    );
    expect([layout.rows, layout.columns]).toEqual([2, 2]);
    expect(layout.cell).toBe(147);
    expect(layout.places).toEqual([
      { x: 2 + 149, y: 2 + 149 },
      { x: 2, y: 2 },
    ]);
    expect(layout.labels).toEqual(['s7 i1', 's2 i0']);
    expect(Math.max(layout.width, layout.height)).toBeLessThanOrEqual(300);
  });

  it('refuses a grid whose cells would be too small to see', () => {
    expect(() => sheetLayout(views(1, 200))).toThrow(/1 x 200 views needs cells of 8 px/);
  });

  it('draws each view in its cell, with one contrast per channel', () => {
    const bright = (value: number) => {
      // a 4 x 4 bead: 0.4 % of the channel's pixels, above its 99.9th percentile
      const pixels = new Uint16Array(64 * 64).fill(100);
      for (let y = 30; y < 34; y++) pixels.fill(value, y * 64 + 30, y * 64 + 34);
      return { width: 64, height: 64, pixels };
    };
    const cells = [
      { illumination: 0, angle: 0, channel: 0, tile: 0, projection: bright(1000) },
      { illumination: 0, angle: 0, channel: 0, tile: 1, projection: bright(500) },
      { illumination: 0, angle: 0, channel: 1, tile: 0 }, // could not be read: gray
    ];
    const sheet = contactSheetPng(cells, { maxCell: 64 });
    const png = decode(sheet.png);
    expect([png.width, png.height, png.channels, png.depth]).toEqual([2 + 2 * 66, 2 + 2 * 66, 1, 8]);
    const at = (x: number, y: number) => png.data[y * png.width + x]!;
    expect(at(2 + 32, 2 + 32)).toBe(255); // the brighter bead of channel 0 sets white
    // the other tile keeps its relative brightness: (500 - 100) / (1000 - 100) of white
    expect(at(2 + 66 + 32, 2 + 32)).toBe(Math.round((400 * 255) / 900));
    expect(at(2 + 50, 2 + 50)).toBe(0);
    expect(at(2 + 50, 2 + 66 + 50)).toBe(90);
  });
});
