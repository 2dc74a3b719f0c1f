import { dirname, join } from 'node:path';
import type { SetupAttributes } from '../model/setup-model.js';
import { partitionsByView, readSpimDataXml } from '../verify/read-spimdata.js';
import type { PreviewSource } from './view-projection.js';

/** A view of a SpimData XML with what a preview needs: its file and its setup's attributes. */
export interface XmlView extends SetupAttributes {
  time: number;
  setupId: number;
  source: PreviewSource;
}

/**
 * Every view that holds data (has a ViewRegistration) in a SpimData XML, with the file it is in
 * (its partition, or the single .h5) and its setup's attributes (absent ones are 0). A single
 * .h5 is read as appendable (under its write fence): `bdv convert --resume` or a batch re-run
 * may be appending to it. Partitions appear whole.
 */
export function viewsOfXml(xmlPath: string): XmlView[] {
  const dataset = readSpimDataXml(xmlPath);
  const partitionOf = partitionsByView(dataset);
  const base = dirname(xmlPath);
  return dataset.views.map(({ time, setupId }) => {
    const partition = partitionOf.get(`${time}:${setupId}`);
    const a = dataset.setupAttributes.get(setupId) ?? { illumination: 0, channel: 0, tile: 0, angle: 0 };
    return {
      time,
      setupId,
      ...a,
      source: { h5Path: join(base, partition?.path ?? dataset.hdf5), time, setupId, appendable: !partition },
    };
  });
}
