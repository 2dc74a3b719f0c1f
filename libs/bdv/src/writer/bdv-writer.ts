import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { BdvError, invalid } from '../errors.js';
import { LAYOUTS, type Layout } from '../model/layout.js';
import { assertStackShape } from '../model/pyramid-spec.js';
import { countFieldOf, setupIdOf, type SetupAttributeName, type ViewIndex } from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';
import type { AttributeLabels, MicroscopeInfo, SpimDataDescription } from '../xml/spimdata-model.js';
import { resolveFormat, type BdvFormat, type BdvFormatOptions } from './bdv-format.js';
import { DatasetFile } from './dataset-file.js';
import { writePartition, writePartitionedMaster, writeXmlFile, type PartitionLink } from './file-writes.js';
import { partitionPathFor, xmlPathFor } from './output-paths.js';
import type { StackInput, ViewProgress } from './stack-input.js';
import { describeView, viewIndexOf, type ViewDescription } from './view-record.js';
import { planeAtLevels, substackAtLevels, type LevelBlock } from './virtual-view.js';

export interface BdvWriterOptions extends BdvFormatOptions {
  /** Replace an existing output file instead of refusing. */
  overwrite?: boolean;
  layout?: Layout;
  /** Target bytes per HDF5 write; bounds memory (about slab x levels x 3). */
  slabBytes?: number;
}

export interface AppendViewOptions extends ViewDescription {
  onProgress?: (progress: ViewProgress) => void;
}

export interface WriteXmlOptions {
  microscope?: MicroscopeInfo;
  cameraName?: string;
  timepoints?: number;
}

/** Everything a thread needs to write one view's partition without the writer: plain data. */
export interface PartitionPlan {
  record: ViewRecord;
  path: string;
  format: BdvFormat;
}

/**
 * Writes a BDV HDF5 file the way npy2bdv's BdvWriter does (same layout, ids, pyramid and XML),
 * streaming each view in z-slabs: create -> appendView ... -> writeXml -> close. Built on the
 * same file functions the cluster uses (file-writes.ts); this class adds the bookkeeping of one
 * session: which views were written, labels, and the XML at the end.
 */
export class BdvWriter {
  private readonly records = new Map<string, ViewRecord>();
  private readonly virtualViews = new Map<string, ViewRecord>();
  private readonly partitions: PartitionLink[] = [];
  private labels: AttributeLabels = {};
  private masterWritten = 0;
  private closed = false;

  private constructor(
    readonly h5Path: string,
    readonly format: BdvFormat,
    readonly layout: Layout,
    private readonly overwrite: boolean,
    /** The single layout's open file; the partitioned master is written whole at the end. */
    private readonly file: DatasetFile | undefined,
  ) {}

  static async create(h5Path: string, options: BdvWriterOptions = {}): Promise<BdvWriter> {
    if (!/\.h5$/i.test(h5Path)) throw invalid('output', `${h5Path} must end in .h5`);
    const format = resolveFormat(options, options.slabBytes);
    const layout = options.layout ?? 'single';
    if (!LAYOUTS.includes(layout)) throw invalid('layout', `must be ${LAYOUTS.join(' or ')}, got ${layout}`);
    const overwrite = options.overwrite ?? false;
    if (existsSync(h5Path)) {
      if (!overwrite)
        throw new BdvError(
          'FILE_EXISTS',
          `${h5Path} already exists (pass overwrite to replace it)`,
          'output',
        );
      rmSync(h5Path);
    }
    const file = layout === 'single' ? await DatasetFile.create(h5Path, format) : undefined;
    return new BdvWriter(h5Path, format, layout, overwrite, file);
  }

  get setup() {
    return this.format.setup;
  }

  get levels() {
    return this.format.levels;
  }

  get xmlPath(): string {
    return xmlPathFor(this.h5Path);
  }

  get views(): readonly ViewRecord[] {
    return [...this.records.values()];
  }

  /** Appends one view, computing every pyramid level while the stack streams through. */
  async appendView(stack: StackInput, options: AppendViewOptions = {}): Promise<ViewRecord> {
    if (this.layout === 'partitioned') {
      const plan = this.planPartition(stack.shapeZyx, options);
      await writePartition(plan.path, plan.format, plan.record, stack, options.onProgress);
      return this.adoptPartition(plan);
    }
    const record = this.newRecord(stack.shapeZyx, options);
    await this.singleFile().writeView(record, stack, options.onProgress);
    this.records.set(keyOf(record), record);
    return record;
  }

  /**
   * Partitioned layout, first step of a view written elsewhere (another thread or process):
   * validates it and names its partition file. `writePartition` writes it (no writer state
   * needed), `adoptPartition` records it for the master and the XML afterwards.
   */
  planPartition(shapeZyx: readonly number[], options: ViewDescription = {}): PartitionPlan {
    if (this.layout !== 'partitioned')
      throw new BdvError('STATE', 'planPartition needs the partitioned layout', 'layout');
    const record = this.newRecord(shapeZyx, options);
    const path = partitionPathFor(this.h5Path, record.time, record.setupId);
    if (existsSync(path) && !this.overwrite) {
      throw new BdvError(
        'FILE_EXISTS',
        `partition ${path} already exists (pass overwrite to replace it)`,
        'output',
      );
    }
    return { record, path, format: this.format };
  }

  /** Records a written partition: the master links it and the XML lists it. */
  adoptPartition(plan: PartitionPlan): ViewRecord {
    const { record } = plan;
    this.assertNew(record);
    this.partitions.push({ time: record.time, setupId: record.setupId, file: basename(plan.path) });
    this.records.set(keyOf(record), record);
    return record;
  }

  /**
   * Starts a view whose planes arrive later, one by one (acquisition) or in substacks
   * (npy2bdv's append_view(None, virtual_stack_dim)). Single layout only.
   */
  beginVirtualView(shapeZyx: number[], options: ViewDescription = {}): ViewRecord {
    if (this.layout !== 'single')
      throw new BdvError('UNSUPPORTED', 'virtual views need the single layout', 'layout');
    const record = this.newRecord(assertStackShape('shapeZyx', shapeZyx), options);
    this.singleFile().createEmptyView(record);
    this.records.set(keyOf(record), record);
    this.virtualViews.set(keyOf(record), record);
    return record;
  }

  /** Writes plane `z` of a virtual view into every level (levels must not subsample z). */
  appendPlane(plane: Uint16Array, z: number, index: Partial<ViewIndex> = {}): void {
    const record = this.virtualView(index);
    this.writeBlocks(record, planeAtLevels(plane, z, record.shapeZyx, this.levels));
  }

  /** Writes a (z,y,x) block of a virtual view at `startZyx` into every level. */
  appendSubstack(
    substack: Uint16Array,
    shapeZyx: number[],
    startZyx: number[],
    index: Partial<ViewIndex> = {},
  ): void {
    const record = this.virtualView(index);
    const shape = assertStackShape('substack shape', shapeZyx);
    this.writeBlocks(record, substackAtLevels(substack, shape, startZyx, record.shapeZyx, this.levels));
  }

  /** Names the entries of one attribute (e.g. channel ["488", "561"]) in the XML. */
  setAttributeLabels(attribute: SetupAttributeName, labels: string[]): void {
    const count = this.setup[countFieldOf(attribute)];
    if (labels.length !== count)
      throw invalid(`attributeLabels.${attribute}`, `needs ${count} labels, got ${labels.length}`);
    this.labels = { ...this.labels, [attribute]: [...labels] };
  }

  describe(options: WriteXmlOptions = {}): SpimDataDescription {
    return {
      hdf5Path: basename(this.h5Path),
      setup: this.setup,
      views: this.views,
      attributeLabels: this.labels,
      partitions:
        this.partitions.length > 0
          ? this.partitions.map((p) => ({ path: p.file, timepoints: [p.time], setups: [p.setupId] }))
          : undefined,
      ...options,
    };
  }

  /** Writes the XML beside the .h5 (and the partitioned master first), atomically. */
  async writeXml(options: WriteXmlOptions = {}): Promise<string> {
    await this.writeMaster();
    return writeXmlFile(this.xmlPath, this.describe(options));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.file) this.file.close();
    else await this.writeMaster();
  }

  private async writeMaster(): Promise<void> {
    if (this.layout !== 'partitioned' || this.masterWritten === this.partitions.length) return;
    await writePartitionedMaster(this.h5Path, this.format, this.partitions);
    this.masterWritten = this.partitions.length;
  }

  private singleFile(): DatasetFile {
    if (this.closed || !this.file) throw new BdvError('STATE', 'the writer is closed');
    return this.file;
  }

  private writeBlocks(record: ViewRecord, blocks: LevelBlock[]): void {
    const file = this.singleFile();
    for (const b of blocks) file.writeBlock(record, b.level, b.offsetZyx, b.countZyx, b.data);
  }

  private newRecord(shapeZyx: readonly number[], view: ViewDescription): ViewRecord {
    if (this.closed) throw new BdvError('STATE', 'the writer is closed');
    const record = describeView(this.setup, view, shapeZyx);
    this.assertNew(record);
    return record;
  }

  private assertNew(record: ViewRecord): void {
    if (this.records.has(keyOf(record))) {
      throw new BdvError(
        'DUPLICATE_VIEW',
        `view time ${record.time}, setup ${record.setupId} was already written`,
        'view',
      );
    }
  }

  private virtualView(index: Partial<ViewIndex>): ViewRecord {
    const i = viewIndexOf(index);
    const record = this.virtualViews.get(`${i.time}:${setupIdOf(this.setup, i)}`);
    if (!record) throw new BdvError('STATE', 'call beginVirtualView for this view first', 'view');
    return record;
  }
}

function keyOf(r: { time: number; setupId: number }): string {
  return `${r.time}:${r.setupId}`;
}
