import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import {
  BdvError,
  buildSpimDataXml,
  resolveSetupCounts,
  resolveViewMetadata,
  writeXmlFile,
  type SpimDataDescription,
  type ViewRecord,
} from '../src/index.js';
import { assertReadableXml } from '../src/xml/parse-back.js';

const dir = tempDir('bdv-xml-safety-');
afterAll(() => dir.remove());

function view(time: number, setupId: number, extra: Partial<ViewRecord> = {}): ViewRecord {
  return { time, setupId, shapeZyx: [4, 5, 6], ...resolveViewMetadata(), ...extra };
}

function description(extra: Partial<SpimDataDescription> = {}): SpimDataDescription {
  return {
    hdf5Path: 'x.h5',
    setup: resolveSetupCounts({ channels: 2 }),
    views: [view(0, 0), view(0, 1)],
    ...extra,
  };
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof BdvError) return error.field;
    throw error;
  }
  return undefined;
}

describe('strings XML cannot carry', () => {
  it('are refused by buildSpimDataXml, naming the field', () => {
    expect(
      fieldOf(() => buildSpimDataXml(description({ attributeLabels: { channel: ['488', 'a\u0001'] } }))),
    ).toBe('attributeLabels.channel[1]');
    expect(fieldOf(() => buildSpimDataXml(description({ microscope: { name: 'meso\u001bSPIM' } })))).toBe(
      'microscope.name',
    );
    expect(fieldOf(() => buildSpimDataXml(description({ cameraName: 'cam\uFFFF' })))).toBe('cameraName');
    expect(
      fieldOf(() => buildSpimDataXml(description({ views: [view(0, 0, { voxelUnits: 'u\u0000m' })] }))),
    ).toBe('voxelUnits');
    expect(
      fieldOf(() => buildSpimDataXml(description({ views: [view(0, 0, { affineName: 'a\uDC00' })] }))),
    ).toBe('affineName');
    // tab, LF, CR and any real character are fine, and CR survives a parser (escaped)
    const xml = buildSpimDataXml(description({ microscope: { name: 'a\tb\nc\rd é 😀 <&>' } }));
    expect(xml).toContain('<name>a\tb\nc&#xD;d é 😀 &lt;&amp;&gt;</name>');
  });

  it('never reach a file: writeXmlFile leaves no XML behind', () => {
    const path = join(dir.path, 'bad.xml');
    expect(() => writeXmlFile(path, description({ attributeLabels: { channel: ['\u0007', 'b'] } }))).toThrow(
      /attributeLabels\.channel\[0\]: holds U\+0007/,
    );
    expect(existsSync(path)).toBe(false);
    const good = join(dir.path, 'good.xml');
    writeXmlFile(good, description({ attributeLabels: { channel: ['488', '561'] } }));
    expect(readFileSync(good, 'utf8')).toContain('<name>561</name>');
  });

  it('parse-back refuses what a conforming XML parser refuses', () => {
    expect(() => assertReadableXml('<SpimData>a\u0001</SpimData>', 'SpimData')).toThrow(
      /disallowed character/,
    );
    expect(() => assertReadableXml('<SpimData>\uD800</SpimData>', 'SpimData')).toThrow(
      /lone UTF-16 surrogate/,
    );
    expect(() => assertReadableXml('<SpimData><a></SpimData>', 'SpimData')).toThrow(/would not parse back/);
    expect(() => assertReadableXml('<Other/>', 'SpimData')).toThrow(/root element is <Other>/);
    expect(() => assertReadableXml(buildSpimDataXml(description()), 'SpimData')).not.toThrow();
  });
});

describe('XML sizes', () => {
  it('refuses more timepoints than the cap, or fewer than the views need', () => {
    expect(fieldOf(() => buildSpimDataXml(description({ timepoints: 1_000_000 })))).toBe('timepoints');
    expect(() =>
      buildSpimDataXml(description({ timepoints: 20_000, setup: resolveSetupCounts({ channels: 100 }) })),
    ).toThrow(/2000000 views is more than 1000000/);
    expect(() => buildSpimDataXml(description({ timepoints: 1, views: [view(3, 0)] }))).toThrow(
      /timepoints: 1, but a view has time 3/,
    );
  });
});
