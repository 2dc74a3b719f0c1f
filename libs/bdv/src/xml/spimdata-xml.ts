import { BdvError } from '../errors.js';
import {
  countFieldOf,
  resolveSetupCounts,
  setupAttributesOf,
  setupCount,
  timepointsProblem,
  type SetupAttributeName,
} from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';
import { calibrationAffineText, formatNumber, formatNumbers } from './format-number.js';
import type { SpimDataDescription } from './spimdata-model.js';
import { XmlLines } from './xml-lines.js';
import { assertXmlStrings } from './xml-strings.js';

/** npy2bdv 1.0.9 lists Attributes blocks in this order (angle before tile). */
const ATTRIBUTE_BLOCK_ORDER: SetupAttributeName[] = ['illumination', 'channel', 'angle', 'tile'];
const ATTRIBUTE_ELEMENT: Record<SetupAttributeName, string> = {
  illumination: 'Illumination',
  channel: 'Channel',
  angle: 'Angle',
  tile: 'Tile',
};
const VIEWSETUP_ATTRIBUTE_ORDER: SetupAttributeName[] = ['illumination', 'channel', 'tile', 'angle'];

export const DEFAULT_MICROSCOPE = { name: 'default', version: '0.0', user: 'user' } as const;
export const DEFAULT_CAMERA_NAME = 'default';

/**
 * Renders the SpimData XML (BDV + npy2bdv's extensions) as a UTF-8 string, element by element
 * without a DOM (xml-lines.ts): a dataset of a million (timepoint, setup) pairs costs its text.
 * Refuses (BdvError naming the field) a description whose strings XML cannot carry or whose sizes
 * pass model/limits.ts.
 */
export function buildSpimDataXml(d: SpimDataDescription): string {
  if (d.views.length === 0) throw new BdvError('STATE', 'no view was written: nothing to describe', 'views');
  const setup = resolveSetupCounts(d.setup);
  const ntimes = timepointsOf(d);
  assertXmlStrings(d);

  const xml = new XmlLines();
  xml.start('SpimData', { version: '0.2' });
  xml.leaf('BasePath', '.', { type: 'relative' });
  addGeneratedBy(xml, d);

  xml.start('SequenceDescription');
  addImageLoader(xml, d);
  xml.start('ViewSetups');
  for (const [setupId, view] of [...latestViewPerSetup(d.views)].sort((a, b) => a[0] - b[0])) {
    addViewSetup(xml, d, setupId, view);
  }
  addAttributeBlocks(xml, d);
  xml.end();
  xml
    .start('Timepoints', { type: 'range' })
    .leaf('first', '0')
    .leaf('last', String(ntimes - 1))
    .end();
  const byView = new Map(d.views.map((v) => [`${v.time}:${v.setupId}`, v]));
  xml.start('MissingViews');
  const nsetups = setupCount(setup);
  for (let t = 0; t < ntimes; t++) {
    for (let s = 0; s < nsetups; s++) {
      if (!byView.has(`${t}:${s}`))
        xml.leaf('MissingView', undefined, { timepoint: String(t), setup: String(s) });
    }
  }
  xml.end().end();

  xml.start('ViewRegistrations');
  const ordered = [...byView.values()].sort((a, b) => a.time - b.time || a.setupId - b.setupId);
  for (const view of ordered) addRegistration(xml, view);
  xml.end().end();
  return xml.text() + '\n';
}

/** The timepoint count: given (bounded, covering every view) or the highest view time + 1. */
function timepointsOf(d: SpimDataDescription): number {
  let last = 0;
  for (const v of d.views) last = Math.max(last, v.time);
  const ntimes = d.timepoints ?? last + 1;
  const problem = timepointsProblem(d.setup, ntimes);
  if (problem) throw new BdvError('OUT_OF_RANGE', `timepoints: ${problem}`, 'timepoints');
  if (last >= ntimes)
    throw new BdvError(
      'OUT_OF_RANGE',
      `timepoints: ${ntimes}, but a view has time ${last} (needs at least ${last + 1})`,
      'timepoints',
    );
  return ntimes;
}

/** npy2bdv keeps one ViewSetup per setup, from the last view appended; we take the latest time. */
function latestViewPerSetup(views: readonly ViewRecord[]): Map<number, ViewRecord> {
  const latest = new Map<number, ViewRecord>();
  for (const v of views) {
    const current = latest.get(v.setupId);
    if (!current || v.time >= current.time) latest.set(v.setupId, v);
  }
  return latest;
}

function addGeneratedBy(xml: XmlLines, d: SpimDataDescription): void {
  const generator = d.generator ?? { name: 'bdv-cluster', version: '0.1.0' };
  xml.start('generatedBy').leaf('library', generator.name, { version: generator.version });
  xml.start('microscope');
  xml.leaf('name', d.microscope?.name ?? DEFAULT_MICROSCOPE.name);
  xml.leaf('version', d.microscope?.version ?? DEFAULT_MICROSCOPE.version);
  xml.leaf('user', d.microscope?.user ?? DEFAULT_MICROSCOPE.user);
  xml.end().end();
}

function addImageLoader(xml: XmlLines, d: SpimDataDescription): void {
  xml.start('ImageLoader', { format: 'bdv.hdf5' }).leaf('hdf5', d.hdf5Path, { type: 'relative' });
  for (const p of d.partitions ?? []) {
    xml.start('partition');
    xml.leaf('path', p.path, { type: 'relative' });
    xml.leaf('timepoints', p.timepoints.join(' '));
    xml.leaf('setups', p.setups.join(' '));
    xml.end();
  }
  xml.end();
}

function addViewSetup(xml: XmlLines, d: SpimDataDescription, setupId: number, v: ViewRecord): void {
  xml.start('ViewSetup');
  xml.leaf('id', String(setupId));
  xml.leaf('name', `setup ${setupId}`);
  xml.leaf('size', `${v.shapeZyx[2]} ${v.shapeZyx[1]} ${v.shapeZyx[0]}`);
  xml.start('voxelSize').leaf('unit', v.voxelUnits).leaf('size', formatNumbers(v.voxelSizeXyz)).end();
  xml.start('camera');
  xml.leaf('name', v.cameraName ?? d.cameraName ?? DEFAULT_CAMERA_NAME);
  xml.leaf('exposureTime', formatNumber(v.exposureTime));
  xml.leaf('exposureUnits', v.exposureUnits);
  xml.end();
  xml.start('attributes');
  const indices = setupAttributesOf(d.setup, setupId);
  for (const name of VIEWSETUP_ATTRIBUTE_ORDER) xml.leaf(name, String(indices[name]));
  xml.end().end();
}

function addAttributeBlocks(xml: XmlLines, d: SpimDataDescription): void {
  for (const name of ATTRIBUTE_BLOCK_ORDER) {
    xml.start('Attributes', { name });
    const count = d.setup[countFieldOf(name)];
    const labels = d.attributeLabels?.[name];
    for (let i = 0; i < count; i++) {
      xml
        .start(ATTRIBUTE_ELEMENT[name])
        .leaf('id', String(i))
        .leaf('name', labels?.[i] ?? String(i))
        .end();
    }
    xml.end();
  }
}

/** spimdata applies the last listed transform first: world = affine * calibration * pixel. */
function addRegistration(xml: XmlLines, v: ViewRecord): void {
  xml.start('ViewRegistration', { timepoint: String(v.time), setup: String(v.setupId) });
  if (v.affine) {
    xml.start('ViewTransform', { type: 'affine' });
    xml.leaf('Name', v.affineName).leaf('affine', formatNumbers(v.affine));
    xml.end();
  }
  xml.start('ViewTransform', { type: 'affine' });
  xml.leaf('Name', 'calibration').leaf('affine', calibrationAffineText(v.calibrationXyz));
  xml.end().end();
}
