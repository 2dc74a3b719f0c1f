import { resolveSetupCounts, type SpimDataDescription } from '@bdv-cluster/bdv';
import { basename } from 'node:path';
import type { DatasetRecord, ViewEntry } from './state-model.js';

/** The XML description of a dataset from its state: written views only; the rest are missing. */
export function spimDataFromState(dataset: DatasetRecord, views: readonly ViewEntry[]): SpimDataDescription {
  const done = views.filter((v) => v.state === 'done' && v.result);
  const options = dataset.finalizeOptions ?? {};
  const partitions = done
    .filter((v) => v.result!.partition)
    .map((v) => ({ path: v.result!.partition!, timepoints: [v.spec.time], setups: [v.setupId] }));
  return {
    hdf5Path: basename(dataset.files.h5),
    setup: resolveSetupCounts(dataset.spec.setup),
    timepoints: options.timepoints ?? dataset.spec.timepoints,
    views: done.map((v) => v.result!.record),
    attributeLabels: dataset.spec.attributeLabels,
    microscope: { ...dataset.spec.microscope, ...options.microscope },
    cameraName: options.camera,
    partitions: partitions.length > 0 ? partitions : undefined,
  };
}
