import type { SetupAttributeName, SetupCounts } from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';

export interface MicroscopeInfo {
  name?: string;
  version?: string;
  user?: string;
}

export type AttributeLabels = Partial<Record<SetupAttributeName, string[]>>;

/** One partition file of the `partitioned` layout: which views it holds. */
export interface PartitionRecord {
  /** Path relative to the XML. */
  path: string;
  timepoints: number[];
  setups: number[];
}

/** Everything the SpimData XML says; built from a writer's records or from the cluster's state. */
export interface SpimDataDescription {
  /** The .h5 (master) path relative to the XML's folder. */
  hdf5Path: string;
  setup: SetupCounts;
  /** Number of timepoints; defaults to the highest view time + 1. */
  timepoints?: number;
  views: readonly ViewRecord[];
  attributeLabels?: AttributeLabels;
  microscope?: MicroscopeInfo;
  /** Camera name for views that did not give one. */
  cameraName?: string;
  partitions?: readonly PartitionRecord[];
  generator?: { name: string; version: string };
}
