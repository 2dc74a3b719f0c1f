import { existsSync } from 'node:fs';
import { BdvError } from '../errors.js';
import { loadH5, summarizeHdf5Error, type H5Api, type H5ExternalLink } from './h5wasm-runtime.js';

type H5Group = InstanceType<H5Api['Group']>;
type H5Dataset = InstanceType<H5Api['Dataset']>;

export interface LevelSummary {
  level: number;
  shapeZyx: number[];
  chunksZyx: number[] | null;
  filters: string[];
  /** Set when the cells are an external link (partitioned layout's master), whether or not its file is there. */
  externalFile?: string;
}

export interface BdvFileSummary {
  path: string;
  setups: { id: number; resolutionsXyz: number[][]; subdivisionsXyz: number[][] }[];
  views: { time: number; setupId: number; levels: LevelSummary[] }[];
}

const FILTER_NAMES: Record<number, string> = {
  1: 'gzip',
  2: 'shuffle',
  3: 'fletcher32',
  6: 'scaleoffset',
  32000: 'lzf',
};

/** Reads the structure of a BDV HDF5 file (not its pixels): setups, views, levels, chunks, filters. */
export async function inspectBdvFile(path: string): Promise<BdvFileSummary> {
  const { api, ExternalLink } = await loadH5();
  if (!existsSync(path)) throw new BdvError('INVALID_ARGUMENT', `${path} does not exist`, 'file');
  let file: InstanceType<H5Api['File']>;
  try {
    file = new api.File(path, 'r');
  } catch (error) {
    // HDF5's own report is a 25-line error stack: one line, naming the file, is what a person needs.
    throw new BdvError(
      'INVALID_ARGUMENT',
      /not an hdf5 file|signature not found/i.test(String(error))
        ? `${path} is not an HDF5 file`
        : `${path}: HDF5 could not open it: ${summarizeHdf5Error(error)}`,
      'file',
    );
  }
  try {
    const keys = file.keys();
    const setups = keys
      .filter((k) => /^s\d+$/.test(k))
      .map((k) => {
        const group = file.get(k) as H5Group;
        return {
          id: Number(k.slice(1)),
          resolutionsXyz: matrix(group.get('resolutions') as H5Dataset | null),
          subdivisionsXyz: matrix(group.get('subdivisions') as H5Dataset | null),
        };
      })
      .sort((a, b) => a.id - b.id);
    const views: BdvFileSummary['views'] = [];
    for (const t of keys.filter((k) => /^t\d+$/.test(k)).sort()) {
      const timeGroup = file.get(t) as H5Group;
      for (const s of timeGroup
        .keys()
        .filter((k) => /^s\d+$/.test(k))
        .sort()) {
        const viewGroup = timeGroup.get(s) as H5Group;
        const levels = viewGroup
          .keys()
          .filter((k) => /^\d+$/.test(k))
          .map((l) => levelSummary(viewGroup.get(l) as H5Group, Number(l), ExternalLink))
          .sort((a, b) => a.level - b.level);
        views.push({ time: Number(t.slice(1)), setupId: Number(s.slice(1)), levels });
      }
    }
    return { path, setups, views };
  } catch (error) {
    // A file half-written (a conversion killed mid-view) or damaged fails deep in a lookup.
    throw new BdvError(
      'INVALID_ARGUMENT',
      `${path}: HDF5 could not read it: ${summarizeHdf5Error(error)}`,
      'file',
    );
  } finally {
    file.close();
  }
}

function levelSummary(group: H5Group, level: number, ExternalLink: H5ExternalLink): LevelSummary {
  const entry = group.get('cells');
  if (entry instanceof ExternalLink) {
    return { level, shapeZyx: [], chunksZyx: null, filters: [], externalFile: entry.filename };
  }
  // HDF5 follows an external link whose file is there: `get` then answers with the partition's
  // dataset, and only the link itself says where the cells live.
  const link = group.get_external_link(`${group.path}/cells`) as { filename?: string };
  const cells = entry as H5Dataset;
  return {
    level,
    shapeZyx: cells.shape ?? [],
    chunksZyx: cells.metadata.chunks,
    filters: cells.filters.map((f) => FILTER_NAMES[f.id] ?? `filter ${f.id}`),
    ...(link.filename ? { externalFile: link.filename } : {}),
  };
}

function matrix(dataset: H5Dataset | null): number[][] {
  if (!dataset) return [];
  const values = Array.from(dataset.value as ArrayLike<number>, Number);
  const rows: number[][] = [];
  for (let i = 0; i < values.length; i += 3) rows.push(values.slice(i, i + 3));
  return rows;
}
