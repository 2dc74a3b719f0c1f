import { invalid } from '../errors.js';
import { MAX_TEXT_LENGTH } from '../model/limits.js';
import { countFieldOf, SETUP_ATTRIBUTE_NAMES } from '../model/setup-model.js';
import { xmlTextProblem } from '../model/text-field.js';
import type { SpimDataDescription } from './spimdata-model.js';

/** Paths (relative to the XML) are longer than labels: a dataset name, a partition suffix. */
const MAX_PATH_LENGTH = 4096;

function check(field: string, value: string | undefined, max = MAX_TEXT_LENGTH, where = ''): void {
  if (value === undefined) return;
  const problem =
    value.length > max ? `must be at most ${max} characters, got ${value.length}` : xmlTextProblem(value);
  if (problem) throw invalid(field, `${where}${problem}`);
}

/**
 * Every string of a description that lands in the XML, checked before a byte is written: a
 * control character would make an XML that no parser reads (while the dataset says complete).
 */
export function assertXmlStrings(d: SpimDataDescription): void {
  check('hdf5Path', d.hdf5Path, MAX_PATH_LENGTH);
  check('generator.name', d.generator?.name);
  check('generator.version', d.generator?.version);
  check('microscope.name', d.microscope?.name);
  check('microscope.version', d.microscope?.version);
  check('microscope.user', d.microscope?.user);
  check('cameraName', d.cameraName);
  for (const attribute of SETUP_ATTRIBUTE_NAMES) {
    const labels = d.attributeLabels?.[attribute];
    if (!labels) continue;
    const count = d.setup[countFieldOf(attribute)];
    if (labels.length !== count)
      throw invalid(`attributeLabels.${attribute}`, `needs ${count} labels, got ${labels.length}`);
    labels.forEach((label, i) => check(`attributeLabels.${attribute}[${i}]`, label));
  }
  d.partitions?.forEach((p, i) => check(`partitions[${i}].path`, p.path, MAX_PATH_LENGTH));
  for (const v of d.views) {
    const where = `view t${v.time} s${v.setupId}: `;
    for (const key of ['voxelUnits', 'cameraName', 'exposureUnits', 'affineName'] as const) {
      check(key, v[key], MAX_TEXT_LENGTH, where);
    }
  }
}
