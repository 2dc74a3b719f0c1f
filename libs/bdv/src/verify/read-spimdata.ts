import { closeSync, openSync, readSync } from 'node:fs';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { BdvError } from '../errors.js';
import type { SetupAttributes } from '../model/setup-model.js';

export interface XmlPartition {
  path: string;
  timepoints: number[];
  setups: number[];
}

/** What verification and previews need of a SpimData XML: its files and which views have data. */
export interface XmlDataset {
  /** The .h5 (or partitioned master) relative to the XML. */
  hdf5: string;
  partitions: XmlPartition[];
  /** Every (time, setup) with a ViewRegistration: the views that hold data. */
  views: { time: number; setupId: number }[];
  /** Each ViewSetup's attribute indices by setup id (absent ones are 0). */
  setupAttributes: Map<number, SetupAttributes>;
}

const CHUNK_BYTES = 1 << 20;
const LOADER = 'SpimData/SequenceDescription/ImageLoader';
const VIEW_SETUP = 'SpimData/SequenceDescription/ViewSetups/ViewSetup';
const SETUP_ATTRIBUTES = ['illumination', 'channel', 'tile', 'angle'] as const;

/**
 * Reads a SpimData XML (any writer's: BDV, npy2bdv, ours) as a stream, keeping only what
 * verification and previews use. A dataset's XML grows with its views (~1 KB each); a DOM of it
 * took ~26 KB per view (10,000 views: 255 MB, 2 s), which a finalizer with a 1 GiB limit could
 * not hold for a facility's largest acquisitions. A missing or unparsable file is a BdvError
 * naming it.
 */
export function readSpimDataXml(xmlPath: string): XmlDataset {
  const found = new SpimDataCollector();
  const parser = new SaxesParser();
  let failure: Error | undefined;
  parser.on('error', (e) => (failure ??= e));
  parser.on('opentag', (tag) => found.open(tag as SaxesTagPlain));
  parser.on('text', (t) => found.text(t));
  parser.on('closetag', () => found.close());
  const fd = openFile(xmlPath);
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      parser.write(decoder.decode(buffer.subarray(0, n), { stream: n > 0 }));
      if (failure || n === 0) break;
    }
    if (!failure) parser.close();
  } catch (error) {
    failure ??= error as Error;
  } finally {
    closeSync(fd);
  }
  if (failure)
    throw new BdvError('INVALID_ARGUMENT', `${xmlPath}: not readable XML (${failure.message})`, 'xml');
  if (!found.dataset.hdf5)
    throw new BdvError(
      'INVALID_ARGUMENT',
      `${xmlPath}: not a BDV SpimData XML with an hdf5 image loader`,
      'xml',
    );
  return found.dataset;
}

/** The partition holding each view, by `time:setup` (one lookup per view, not a scan). */
export function partitionsByView(dataset: XmlDataset): Map<string, XmlPartition> {
  const byView = new Map<string, XmlPartition>();
  for (const p of dataset.partitions)
    for (const t of p.timepoints)
      for (const s of p.setups) if (!byView.has(`${t}:${s}`)) byView.set(`${t}:${s}`, p);
  return byView;
}

function openFile(xmlPath: string): number {
  try {
    return openSync(xmlPath, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new BdvError('INVALID_ARGUMENT', `${xmlPath}: ${reason}`, 'xml');
  }
}

/** Follows the element path and keeps the texts and attributes XmlDataset is made of. */
class SpimDataCollector {
  readonly dataset: XmlDataset = { hdf5: '', partitions: [], views: [], setupAttributes: new Map() };
  private readonly path: string[] = [];
  private where = '';
  private texts: string[] = [];
  private partition: Partial<Record<'path' | 'timepoints' | 'setups', string>> = {};
  private setup: { id?: string } & Partial<Record<(typeof SETUP_ATTRIBUTES)[number], string>> = {};
  private sawHdf5 = false;

  open(tag: SaxesTagPlain): void {
    this.path.push(tag.name);
    this.where = this.path.join('/');
    this.texts = [];
    if (this.where === `${LOADER}/partition`) this.partition = {};
    else if (this.where === VIEW_SETUP) this.setup = {};
    else if (this.where === 'SpimData/ViewRegistrations/ViewRegistration')
      this.dataset.views.push({
        time: Number(tag.attributes.timepoint),
        setupId: Number(tag.attributes.setup),
      });
  }

  text(t: string): void {
    this.texts.push(t);
  }

  close(): void {
    const text = this.texts.join('').trim();
    const where = this.where;
    const name = this.path.at(-1)!;
    const parent = this.path.slice(0, -1).join('/');
    if (where === `${LOADER}/hdf5` && !this.sawHdf5) {
      this.sawHdf5 = true;
      this.dataset.hdf5 = text;
    } else if (
      parent === `${LOADER}/partition` &&
      (name === 'path' || name === 'timepoints' || name === 'setups')
    )
      this.partition[name] = text;
    else if (where === `${LOADER}/partition`)
      this.dataset.partitions.push({
        path: this.partition.path ?? '',
        timepoints: integers(this.partition.timepoints),
        setups: integers(this.partition.setups),
      });
    else if (where === `${VIEW_SETUP}/id`) this.setup.id = text;
    else if (parent === `${VIEW_SETUP}/attributes` && (SETUP_ATTRIBUTES as readonly string[]).includes(name))
      this.setup[name as (typeof SETUP_ATTRIBUTES)[number]] = text;
    else if (where === VIEW_SETUP)
      this.dataset.setupAttributes.set(Number(this.setup.id), {
        illumination: Number(this.setup.illumination || 0),
        channel: Number(this.setup.channel || 0),
        tile: Number(this.setup.tile || 0),
        angle: Number(this.setup.angle || 0),
      });
    this.path.pop();
    this.where = this.path.join('/');
    this.texts = [];
  }
}

const integers = (text = ''): number[] => text.split(/\s+/).filter(Boolean).map(Number);
