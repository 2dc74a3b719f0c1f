import { resolveFormat, type BdvFormat } from '@bdv-cluster/bdv';
import { chosenPyramid } from '@bdv-cluster/contract';
import type { DatasetRecord } from './state-model.js';

/**
 * How every view of a dataset is stored. Its "auto" pyramid must have been chosen already (by the
 * first view's writer, see usecases/choose-pyramid.ts): writing with anything else is refused.
 */
export function datasetFormat(dataset: Pick<DatasetRecord, 'spec'>): BdvFormat {
  return resolveFormat({ ...dataset.spec, ...chosenPyramid(dataset.spec) });
}
