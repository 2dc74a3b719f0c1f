import { BdvError } from '../errors.js';
import { parseXmlFile, xmlList as list, xmlText as text, type XmlNode as Node } from '../xml/xml-nodes.js';

/** What verification needs of a SpimData XML: its files and which views have data. */
export interface XmlDataset {
  /** The .h5 (or partitioned master) relative to the XML. */
  hdf5: string;
  partitions: { path: string; timepoints: number[]; setups: number[] }[];
  /** Every (time, setup) with a ViewRegistration: the views that hold data. */
  views: { time: number; setupId: number }[];
}

const ints = (value: unknown): number[] => text(value).split(/\s+/).filter(Boolean).map(Number);

/**
 * Parses a SpimData XML (any writer's: BDV, npy2bdv, ours) enough to verify its files. `root`: the
 * file already parsed (parseXmlFile), for a caller that reads more of it.
 */
export function readSpimDataViews(xmlPath: string, root: Node = parseXmlFile(xmlPath)): XmlDataset {
  const spim = root.SpimData as Node | undefined;
  const loader = (spim?.SequenceDescription as Node | undefined)?.ImageLoader as Node | undefined;
  const hdf5 = text(loader?.hdf5);
  if (!spim || !hdf5)
    throw new BdvError(
      'INVALID_ARGUMENT',
      `${xmlPath}: not a BDV SpimData XML with an hdf5 image loader`,
      'xml',
    );
  const partitions = list(loader?.partition).map((p) => ({
    path: text(p.path),
    timepoints: ints(p.timepoints),
    setups: ints(p.setups),
  }));
  const views = list((spim.ViewRegistrations as Node | undefined)?.ViewRegistration).map((r) => ({
    time: Number(r['@timepoint']),
    setupId: Number(r['@setup']),
  }));
  return { hdf5, partitions, views };
}
