import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { BdvError } from '../errors.js';
import {
  countFieldOf,
  setupAttributesOf,
  setupCount,
  type SetupAttributeName,
} from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';
import { calibrationAffineText, formatNumber, formatNumbers } from './format-number.js';
import type { SpimDataDescription } from './spimdata-model.js';

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

/** Renders the SpimData XML (BDV + npy2bdv's extensions) as a UTF-8 string. */
export function buildSpimDataXml(d: SpimDataDescription): string {
  if (d.views.length === 0) throw new BdvError('STATE', 'no view was written: nothing to describe', 'views');
  const ntimes = d.timepoints ?? Math.max(...d.views.map((v) => v.time)) + 1;
  const nsetups = setupCount(d.setup);
  const byView = new Map(d.views.map((v) => [`${v.time}:${v.setupId}`, v]));
  const latestBySetup = latestViewPerSetup(d.views);

  const doc = create({ version: '1.0', encoding: 'utf-8' });
  const root = doc.ele('SpimData', { version: '0.2' });
  root.ele('BasePath', { type: 'relative' }).txt('.');
  addGeneratedBy(root, d);

  const seq = root.ele('SequenceDescription');
  addImageLoader(seq, d);
  const setups = seq.ele('ViewSetups');
  for (const [setupId, view] of [...latestBySetup].sort((a, b) => a[0] - b[0])) {
    addViewSetup(setups, d, setupId, view);
  }
  addAttributeBlocks(setups, d);
  const tp = seq.ele('Timepoints', { type: 'range' });
  tp.ele('first').txt('0');
  tp.ele('last').txt(String(ntimes - 1));
  const missing = seq.ele('MissingViews');
  for (let t = 0; t < ntimes; t++) {
    for (let s = 0; s < nsetups; s++) {
      if (!byView.has(`${t}:${s}`)) missing.ele('MissingView', { timepoint: String(t), setup: String(s) });
    }
  }

  const regs = root.ele('ViewRegistrations');
  const ordered = [...byView.values()].sort((a, b) => a.time - b.time || a.setupId - b.setupId);
  for (const view of ordered) addRegistration(regs, view);
  return doc.end({ prettyPrint: true, indent: '  ' }) + '\n';
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

function addGeneratedBy(root: XMLBuilder, d: SpimDataDescription): void {
  const generator = d.generator ?? { name: 'bdv-cluster', version: '0.1.0' };
  const by = root.ele('generatedBy');
  by.ele('library', { version: generator.version }).txt(generator.name);
  const microscope = by.ele('microscope');
  microscope.ele('name').txt(d.microscope?.name ?? DEFAULT_MICROSCOPE.name);
  microscope.ele('version').txt(d.microscope?.version ?? DEFAULT_MICROSCOPE.version);
  microscope.ele('user').txt(d.microscope?.user ?? DEFAULT_MICROSCOPE.user);
}

function addImageLoader(seq: XMLBuilder, d: SpimDataDescription): void {
  const loader = seq.ele('ImageLoader', { format: 'bdv.hdf5' });
  loader.ele('hdf5', { type: 'relative' }).txt(d.hdf5Path);
  for (const p of d.partitions ?? []) {
    const partition = loader.ele('partition');
    partition.ele('path', { type: 'relative' }).txt(p.path);
    partition.ele('timepoints').txt(p.timepoints.join(' '));
    partition.ele('setups').txt(p.setups.join(' '));
  }
}

function addViewSetup(setups: XMLBuilder, d: SpimDataDescription, setupId: number, v: ViewRecord): void {
  const vs = setups.ele('ViewSetup');
  vs.ele('id').txt(String(setupId));
  vs.ele('name').txt(`setup ${setupId}`);
  vs.ele('size').txt(`${v.shapeZyx[2]} ${v.shapeZyx[1]} ${v.shapeZyx[0]}`);
  const voxel = vs.ele('voxelSize');
  voxel.ele('unit').txt(v.voxelUnits);
  voxel.ele('size').txt(formatNumbers(v.voxelSizeXyz));
  const camera = vs.ele('camera');
  camera.ele('name').txt(v.cameraName ?? d.cameraName ?? DEFAULT_CAMERA_NAME);
  camera.ele('exposureTime').txt(formatNumber(v.exposureTime));
  camera.ele('exposureUnits').txt(v.exposureUnits);
  const attributes = vs.ele('attributes');
  const indices = setupAttributesOf(d.setup, setupId);
  for (const name of VIEWSETUP_ATTRIBUTE_ORDER) attributes.ele(name).txt(String(indices[name]));
}

function addAttributeBlocks(setups: XMLBuilder, d: SpimDataDescription): void {
  for (const name of ATTRIBUTE_BLOCK_ORDER) {
    const block = setups.ele('Attributes', { name });
    const count = d.setup[countFieldOf(name)];
    const labels = d.attributeLabels?.[name];
    for (let i = 0; i < count; i++) {
      const entry = block.ele(ATTRIBUTE_ELEMENT[name]);
      entry.ele('id').txt(String(i));
      entry.ele('name').txt(labels?.[i] ?? String(i));
    }
  }
}

/** spimdata applies the last listed transform first: world = affine * calibration * pixel. */
function addRegistration(regs: XMLBuilder, v: ViewRecord): void {
  const reg = regs.ele('ViewRegistration', { timepoint: String(v.time), setup: String(v.setupId) });
  if (v.affine) {
    const user = reg.ele('ViewTransform', { type: 'affine' });
    user.ele('Name').txt(v.affineName);
    user.ele('affine').txt(formatNumbers(v.affine));
  }
  const calibration = reg.ele('ViewTransform', { type: 'affine' });
  calibration.ele('Name').txt('calibration');
  calibration.ele('affine').txt(calibrationAffineText(v.calibrationXyz));
}
