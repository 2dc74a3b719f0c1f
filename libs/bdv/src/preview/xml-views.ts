import { dirname, join } from 'node:path';
import type { SetupAttributes } from '../model/setup-model.js';
import { readSpimDataViews } from '../verify/read-spimdata.js';
import type { PreviewSource } from './view-projection.js';
import { parseXmlFile, xmlList as list, xmlText as text, type XmlNode as Node } from '../xml/xml-nodes.js';

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
  // Parsed once for both: the views and files, and the setups' attributes.
  const root = parseXmlFile(xmlPath);
  const dataset = readSpimDataViews(xmlPath, root);
  const attributes = setupAttributesOf(root);
  const base = dirname(xmlPath);
  return dataset.views.map(({ time, setupId }) => {
    const partition = dataset.partitions.find(
      (p) => p.timepoints.includes(time) && p.setups.includes(setupId),
    );
    const a = attributes.get(setupId) ?? { illumination: 0, channel: 0, tile: 0, angle: 0 };
    return {
      time,
      setupId,
      ...a,
      source: { h5Path: join(base, partition?.path ?? dataset.hdf5), time, setupId, appendable: !partition },
    };
  });
}

function setupAttributesOf(root: Node): Map<number, SetupAttributes> {
  const setups = list(
    (
      ((root.SpimData as Node | undefined)?.SequenceDescription as Node | undefined)?.ViewSetups as
        Node | undefined
    )?.ViewSetup,
  );
  const index = (a: Node | undefined, name: string) => Number(text(a?.[name]) || 0);
  return new Map(
    setups.map((s) => {
      const a = s.attributes as Node | undefined;
      return [
        Number(text(s.id)),
        {
          illumination: index(a, 'illumination'),
          channel: index(a, 'channel'),
          tile: index(a, 'tile'),
          angle: index(a, 'angle'),
        },
      ];
    }),
  );
}
