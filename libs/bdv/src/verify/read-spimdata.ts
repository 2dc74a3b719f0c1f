import { readFileSync } from 'node:fs';
import { create } from 'xmlbuilder2';
import { BdvError } from '../errors.js';
import { xmlList, xmlText, type XmlNode } from '../xml/xml-nodes.js';

/** What verification needs of a SpimData XML: its files and which views have data. */
export interface XmlDataset {
  /** The .h5 (or partitioned master) relative to the XML. */
  hdf5: string;
  partitions: { path: string; timepoints: number[]; setups: number[] }[];
  /** Every (time, setup) with a ViewRegistration: the views that hold data. */
  views: { time: number; setupId: number }[];
}

type Node = XmlNode;
const list = xmlList;
const text = xmlText;
const ints = (value: unknown): number[] => text(value).split(/\s+/).filter(Boolean).map(Number);

/** Parses a SpimData XML (any writer's: BDV, npy2bdv, ours) enough to verify its files. */
export function readSpimDataViews(xmlPath: string): XmlDataset {
  let root: Node;
  try {
    root = create(readFileSync(xmlPath, 'utf8')).end({ format: 'object' }) as Node;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : `not readable XML (${(error as Error).message})`;
    throw new BdvError('INVALID_ARGUMENT', `${xmlPath}: ${reason}`, 'xml');
  }
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
