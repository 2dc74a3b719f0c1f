import { describe, expect, it } from 'vitest';
import { formatNumber } from '../src/xml/format-number.js';
import { buildSpimDataXml, resolveSetupCounts, resolveViewMetadata, type ViewRecord } from '../src/index.js';

function view(time: number, setupId: number, extra: Partial<ViewRecord> = {}): ViewRecord {
  return { time, setupId, shapeZyx: [4, 5, 6], ...resolveViewMetadata(), ...extra };
}

describe('SpimData XML', () => {
  it('lists missing views and skips setups that never got data', () => {
    const xml = buildSpimDataXml({
      hdf5Path: 'x.h5',
      setup: resolveSetupCounts({ channels: 2, tiles: 2 }),
      views: [view(0, 0), view(0, 1), view(1, 0)],
    });
    expect(xml).toContain('<MissingView timepoint="0" setup="2"/>');
    expect(xml).toContain('<MissingView timepoint="1" setup="3"/>');
    expect(xml.match(/<MissingView /g)).toHaveLength(5);
    expect(xml.match(/<ViewSetup>/g)).toHaveLength(2);
    expect(xml).toContain('<last>1</last>');
    expect(xml).toContain('<size>6 5 4</size>');
  });

  it('puts the user affine before the calibration, both with exact numbers', () => {
    const affine = [1, 0, 0, 10.25, 0, 1, 0, -3.125, 0, 0, 1, 1 / 3];
    const xml = buildSpimDataXml({
      hdf5Path: 'x.h5',
      setup: resolveSetupCounts(),
      views: [view(0, 0, { affine, affineName: 'tile shift', calibrationXyz: [1, 1, 2.5] })],
    });
    const user = xml.indexOf('tile shift');
    const calibration = xml.indexOf('<Name>calibration</Name>');
    expect(user).toBeGreaterThan(0);
    expect(calibration).toBeGreaterThan(user);
    const text = /<Name>tile shift<\/Name>\s*<affine>([^<]*)<\/affine>/.exec(xml)![1]!;
    expect(text.split(' ').map(Number)).toEqual(affine);
    expect(xml).toContain('<affine>1 0.0 0.0 0.0 0.0 1 0.0 0.0 0.0 0.0 2.5 0.0</affine>');
  });

  it('uses labels and rejects an empty dataset', () => {
    const xml = buildSpimDataXml({
      hdf5Path: 'x.h5',
      setup: resolveSetupCounts({ channels: 2 }),
      views: [view(0, 1)],
      attributeLabels: { channel: ['488', '561'] },
    });
    expect(xml).toMatch(/<Channel>\s*<id>1<\/id>\s*<name>561<\/name>/);
    expect(() => buildSpimDataXml({ hdf5Path: 'x.h5', setup: resolveSetupCounts(), views: [] })).toThrow(
      /no view/,
    );
  });

  it('formats numbers so they parse back equal', () => {
    for (const v of [0.1 + 0.2, 1e-7, 123456789.123, -0, 2])
      expect(Number(formatNumber(v))).toBe(v === 0 ? 0 : v);
  });
});
