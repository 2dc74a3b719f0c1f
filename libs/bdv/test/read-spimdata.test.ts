import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { partitionsByView, readSpimDataXml } from '../src/verify/read-spimdata.js';

// The SpimData reader streams the file and keeps only files, views and setup attributes.

const dir = tempDir('bdv-spimdata-');
afterAll(() => dir.remove());

function xmlFile(name: string, text: string | Uint8Array): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

const setup = (id: number, channel: number, tile: number) =>
  `<ViewSetup><id>${id}</id><name>setup ${id}</name><attributes><illumination>0</illumination>` +
  `<channel>${channel}</channel><tile>${tile}</tile><angle>0</angle></attributes></ViewSetup>`;

const spimData = (padding = '', hdf5 = 'r&amp;d é.h5') => `<?xml version="1.0" encoding="UTF-8"?>
<SpimData version="0.2">
  <!-- ${padding} -->
  <BasePath type="relative">.</BasePath>
  <SequenceDescription>
    <ImageLoader format="bdv.hdf5">
      <hdf5 type="relative">${hdf5}</hdf5>
      <partition><path>p-t0-s1.h5</path><timepoints>0</timepoints><setups>1</setups></partition>
      <partition><path>p-t1.h5</path><timepoints> 1 </timepoints><setups>0 1</setups></partition>
    </ImageLoader>
    <ViewSetups>${setup(0, 0, 0)}${setup(1, 1, 2)}<Attributes name="channel"><Channel><id>0</id></Channel></Attributes></ViewSetups>
    <Timepoints type="range"><first>0</first><last>1</last></Timepoints>
    <MissingViews><MissingView timepoint="0" setup="0" /></MissingViews>
  </SequenceDescription>
  <ViewRegistrations>
    <ViewRegistration timepoint="0" setup="1"><ViewTransform type="affine"><affine>1 0 0 0 0 1 0 0 0 0 1 0</affine></ViewTransform></ViewRegistration>
    <ViewRegistration timepoint="1" setup="0" />
    <ViewRegistration timepoint="1" setup="1" />
  </ViewRegistrations>
</SpimData>
`;

const expected = {
  hdf5: 'r&d é.h5',
  partitions: [
    { path: 'p-t0-s1.h5', timepoints: [0], setups: [1] },
    { path: 'p-t1.h5', timepoints: [1], setups: [0, 1] },
  ],
  views: [
    { time: 0, setupId: 1 },
    { time: 1, setupId: 0 },
    { time: 1, setupId: 1 },
  ],
  setupAttributes: new Map([
    [0, { illumination: 0, channel: 0, tile: 0, angle: 0 }],
    [1, { illumination: 0, channel: 1, tile: 2, angle: 0 }],
  ]),
};

describe('readSpimDataXml', () => {
  it('reads the image loader, partitions, registered views and setup attributes', () => {
    const dataset = readSpimDataXml(xmlFile('small.xml', spimData()));
    expect(dataset).toEqual(expected);
    const byView = partitionsByView(dataset);
    expect([byView.get('0:1')?.path, byView.get('1:0')?.path, byView.get('0:0')]).toEqual([
      'p-t0-s1.h5',
      'p-t1.h5',
      undefined,
    ]);
  });

  it('reads a file larger than its read size, with a character split across two reads', () => {
    // The first 1 MiB read ends inside the two bytes of a padding 'é'.
    const head = spimData('<<').indexOf('<<');
    const padding =
      'x'.repeat((1 << 20) - 1 - Buffer.byteLength(spimData('').slice(0, head))) + 'é'.repeat(1000);
    const text = spimData(padding);
    expect(
      Buffer.from(text)
        .subarray((1 << 20) - 1, (1 << 20) + 1)
        .toString(),
    ).toBe('é');
    expect(readSpimDataXml(xmlFile('large.xml', text))).toEqual(expected);
  });

  it('names the file that is missing, does not parse, or is not BDV SpimData', () => {
    const missing = join(dir.path, 'missing.xml');
    expect(() => readSpimDataXml(missing)).toThrow(`${missing}: no such file`);
    const broken = xmlFile('broken.xml', spimData().replace('</SequenceDescription>', ''));
    expect(() => readSpimDataXml(broken)).toThrow(new RegExp(`^${broken}: not readable XML \\(`));
    const binary = xmlFile(
      'binary.xml',
      Buffer.concat([Buffer.from('<SpimData>'), Buffer.from([0xff, 0xfe])]) as never,
    );
    expect(() => readSpimDataXml(binary)).toThrow(/not readable XML/);
    const other = xmlFile('other.xml', spimData().replaceAll('SpimData', 'Other'));
    expect(() => readSpimDataXml(other)).toThrow(
      `${other}: not a BDV SpimData XML with an hdf5 image loader`,
    );
    const noLoader = xmlFile('no-loader.xml', spimData('', ''));
    expect(() => readSpimDataXml(noLoader)).toThrow(/not a BDV SpimData XML/);
  });
});
