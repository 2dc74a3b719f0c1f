import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BdvError, invalid } from '../errors.js';
import { journalPathOf } from '../h5/rollback-journal.js';
import { assertUnclaimed, WriterFence } from '../h5/writer-fence.js';
import type { LevelChecksum } from '../model/checksums.js';
import { LAYOUTS, type Layout } from '../model/layout.js';
import { assertStackShape } from '../model/pyramid-spec.js';
import { countFieldOf, setupIdOf, type SetupAttributeName, type ViewIndex } from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';
import type { AttributeLabels, MicroscopeInfo, SpimDataDescription } from '../xml/spimdata-model.js';
import { resolveFormat, type BdvFormat, type BdvFormatOptions } from './bdv-format.js';
import {
  checksumPathFor,
  PendingChecksumFile,
  sha256Of,
  writeChecksumFile,
  type ViewChecksums,
} from './checksum-file.js';
import {
  CommitGroup,
  DEFAULT_COMMIT_GROUP,
  type CommitGroupLimits,
  type CommittedView,
} from './commit-group.js';
import { DatasetFile } from './dataset-file.js';
import { writeXmlFile } from './file-writes.js';
import { partitionFilesBeside, partitionPathFor, xmlPathFor } from './output-paths.js';
import { partitionsOfOutput } from './replaced-output.js';
import { resumableViews } from './resume.js';
import type { StackInput, ViewProgress } from './stack-input.js';
import { writePartition, writePartitionedMaster, type PartitionLink } from './view-files.js';
import { describeView, viewIndexOf, type ViewDescription } from './view-record.js';
import { VirtualViews } from './virtual-views.js';

export interface BdvWriterOptions extends BdvFormatOptions {
  /** Replace an existing output file instead of refusing. */
  overwrite?: boolean;
  layout?: Layout;
  /** Target bytes per HDF5 write; bounds memory (about slab x levels x 3). */
  slabBytes?: number;
  /**
   * Single layout: how many views one commit may hold (commit-group.ts). A crash undoes at most
   * the uncommitted group; a failed or interrupted view only itself. `{ bytes: 0, seconds: 0 }`
   * commits every view on its own.
   */
  commitGroup?: CommitGroupLimits;
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
 * same file functions the cluster uses (view-files.ts): views land in crash-safe commits (one per
 * partition; in the single layout one per group of views, see commit-group.ts), recorded with
 * their checksums in `<name>.checksums.json` as each commit lands, so an interrupted conversion
 * can `resume`. The writer holds the file's write fence from create to close.
 */
export class BdvWriter {
  private readonly records = new Map<string, ViewRecord>();
  private readonly checksums = new Map<string, ViewChecksums>();
  private readonly partitions: PartitionLink[] = [];
  private readonly virtual: VirtualViews;
  private labels: AttributeLabels = {};
  private masterWritten = -1;
  private pendingSums: PendingChecksumFile | undefined;
  private readonly group: CommitGroup;
  private closed = false;

  private constructor(
    readonly h5Path: string,
    readonly format: BdvFormat,
    readonly layout: Layout,
    private readonly overwrite: boolean,
    private readonly fence: WriterFence | undefined,
    commitGroup: CommitGroupLimits,
  ) {
    this.virtual = new VirtualViews(h5Path, format);
    this.group = new CommitGroup(h5Path, format, fence, commitGroup);
  }

  static async create(h5Path: string, options: BdvWriterOptions = {}): Promise<BdvWriter> {
    const { format, layout, overwrite, commitGroup } = checkOptions(h5Path, options);
    const newPartitioned = layout === 'partitioned' && !overwrite;
    // Once before the fence (a refusal leaves no lock file behind), again under it (the answer).
    if (newPartitioned) assertNoPartitionFiles(h5Path);
    const fence = await WriterFence.acquire(h5Path);
    try {
      assertUnclaimed(h5Path);
      // The old output's partitions go with it (read before its master and record go).
      const oldPartitions = overwrite ? await partitionsOfOutput(h5Path) : [];
      if (newPartitioned) assertNoPartitionFiles(h5Path);
      for (const existing of [h5Path, xmlPathFor(h5Path)]) {
        if (!existsSync(existing)) continue;
        if (!overwrite)
          throw new BdvError(
            'FILE_EXISTS',
            `${existing} already exists (pass overwrite to replace it)`,
            'output',
          );
        // The old XML goes with the old file: left, it would describe a new file cut short.
        rmSync(existing);
      }
      // A crashed append's journal belongs to the file just replaced: rolled back into the new
      // one by its first append, it would overwrite the new file's bytes with the old file's.
      rmSync(journalPathOf(h5Path), { force: true });
      rmSync(checksumPathFor(xmlPathFor(h5Path)), { force: true });
      for (const partition of oldPartitions) rmSync(partition, { force: true });
      if (layout === 'single') await DatasetFile.createEmpty(h5Path, format);
      const writer = new BdvWriter(h5Path, format, layout, overwrite, fence, commitGroup);
      // The record (no view yet) exists before the first view lands: a run stopped between a
      // partition's rename and its record line is then resumable (the partition is its own),
      // where without a record an unlisted partition is nobody's and refused.
      writer.restartChecksumRecord();
      return writer;
    } catch (error) {
      await fence?.release();
      throw error;
    }
  }

  /**
   * Continues an interrupted conversion into `h5Path`: the views its checksum file lists that
   * still read back as written are kept (a crashed append is rolled back first); the caller
   * appends the rest. The options must be those of the first run. `underFence` runs once the
   * fence is held, before anything is read or changed: a caller's checks made before waiting for
   * the fence may be stale by then (a run that held it changed the output); it throws to refuse.
   */
  static async resume(
    h5Path: string,
    options: BdvWriterOptions = {},
    underFence?: () => Promise<void>,
  ): Promise<BdvWriter> {
    const { format, layout, commitGroup } = checkOptions(h5Path, options);
    const fence = await WriterFence.acquire(h5Path);
    try {
      assertUnclaimed(h5Path);
      // The caller's own checks, with the fence held and nothing yet read, rolled back or written.
      await underFence?.();
      const writer = new BdvWriter(h5Path, format, layout, true, fence, commitGroup);
      // Which views to keep is decided before an absent file is created: a new empty file has no
      // checksum record, which resumableViews would take for an unknown file.
      const kept = await resumableViews(h5Path, format, layout);
      if (layout === 'single' && !existsSync(h5Path)) await DatasetFile.createEmpty(h5Path, format);
      // The earlier record may list views that no longer read back: the first view recorded
      // replaces it whole (not before: a caller may still refuse the resume and keep it as it was).
      for (const view of kept) writer.keep(view.record, view.sums, view.partition);
      return writer;
    } catch (error) {
      await fence?.release();
      throw error;
    }
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

  /** Every view written, committed or not yet (see `commit`). */
  get views(): readonly ViewRecord[] {
    return [...this.records.values(), ...this.group.uncommitted.map((v) => v.record)];
  }

  /** True if this (resumed) writer already holds the view `view` names. */
  has(view: Partial<ViewIndex>): boolean {
    const i = viewIndexOf(view);
    return this.holds(`${i.time}:${setupIdOf(this.setup, i)}`);
  }

  /** Appends one view, computing every pyramid level while the stack streams through. */
  async appendView(stack: StackInput, options: AppendViewOptions = {}): Promise<ViewRecord> {
    if (this.layout === 'partitioned') {
      const plan = this.planPartition(stack.shapeZyx, options);
      const sums = await writePartition(plan.path, plan.format, plan.record, stack, options.onProgress);
      return this.adoptPartition(plan, sums);
    }
    const record = this.newRecord(stack.shapeZyx, options);
    return this.group.exclusive(async () => {
      await this.commitVirtualViews();
      let committed: CommittedView[];
      try {
        committed = await this.group.append(record, stack, options.onProgress);
      } catch (error) {
        try {
          this.remember(this.group.takeCommittedOnFailure());
        } catch {
          // The record is written whole at the next commit; the view's own failure is the news.
        }
        throw error;
      }
      this.remember(committed);
      return record;
    });
  }

  /**
   * Commits the views written so far (single layout; partitions commit one by one anyway): after
   * this, a crash keeps them. writeXml and close commit too.
   */
  async commit(): Promise<void> {
    // An appendView still running lands first: it commits the virtual views itself before it writes.
    await this.group.settled();
    await this.commitVirtualViews();
    await this.commitGroup();
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

  /** Records a written partition: the master links it, the XML and the checksums list it. */
  adoptPartition(plan: PartitionPlan, sums: LevelChecksum[]): ViewRecord {
    this.assertNew(plan.record);
    this.remember([{ record: plan.record, sums }], basename(plan.path));
    return plan.record;
  }

  /**
   * Starts a view whose planes arrive later, one by one (acquisition) or in substacks
   * (npy2bdv's append_view(None, virtual_stack_dim)). Single layout only; the planes commit with
   * the next appendView, writeXml or close.
   */
  async beginVirtualView(shapeZyx: number[], options: ViewDescription = {}): Promise<ViewRecord> {
    if (this.layout !== 'single')
      throw new BdvError('UNSUPPORTED', 'virtual views need the single layout', 'layout');
    const record = this.newRecord(assertStackShape('shapeZyx', shapeZyx), options);
    // The virtual views open an append of their own (shared by all of them): the group's is
    // committed first.
    await this.commitGroup();
    await this.virtual.begin(record);
    this.records.set(keyOf(record), record);
    return record;
  }

  /** Writes plane `z` of a virtual view into every level (levels must not subsample z). */
  appendPlane(plane: Uint16Array, z: number, index: Partial<ViewIndex> = {}): void {
    this.virtual.plane(this.virtualKey(index), plane, z);
  }

  /** Writes a (z,y,x) block of a virtual view at `startZyx` into every level. */
  appendSubstack(
    substack: Uint16Array,
    shapeZyx: number[],
    startZyx: number[],
    index: Partial<ViewIndex> = {},
  ): void {
    this.virtual.substack(
      this.virtualKey(index),
      substack,
      assertStackShape('substack shape', shapeZyx),
      startZyx,
    );
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

  /** Writes the master (partitioned), the XML and the checksums beside the .h5, atomically. */
  async writeXml(options: WriteXmlOptions = {}): Promise<string> {
    await this.commit();
    await this.writeMaster();
    writeXmlFile(this.xmlPath, this.describe(options));
    // The complete record is renamed over the pending one: appends to the old file would be lost.
    this.closeChecksumRecord();
    writeChecksumFile(
      checksumPathFor(this.xmlPath),
      [...this.checksums.values()],
      true,
      sha256Of(this.xmlPath),
    );
    return this.xmlPath;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.commit();
      // A run that adopted no partition (refused, or stopped before its first view) leaves no
      // master of its own: an empty one would only stand in the way of the next run.
      if (this.partitions.length > 0 || existsSync(this.h5Path)) await this.writeMaster();
    } finally {
      this.group.abort();
      const recordedNothing = this.pendingSums !== undefined && this.checksums.size === 0;
      this.closeChecksumRecord();
      // A run that ends before any view (refused, or stopped in good order) leaves no record
      // of its own: the output folder is as it found it.
      if (recordedNothing) rmSync(checksumPathFor(this.xmlPath), { force: true });
      await this.fence?.release();
    }
  }

  /** Commits the appended views' group, once an appendView still running (not awaited) landed. */
  private async commitGroup(): Promise<void> {
    await this.group.settled();
    this.remember(this.group.commit());
  }

  private async commitVirtualViews(): Promise<void> {
    this.remember(await this.virtual.commit());
  }

  private async writeMaster(): Promise<void> {
    if (this.layout !== 'partitioned' || this.masterWritten === this.partitions.length) return;
    await writePartitionedMaster(this.h5Path, this.format, this.partitions);
    this.masterWritten = this.partitions.length;
  }

  /** Committed views are in: recorded for the XML, their checksums saved at once (what resume trusts). */
  private remember(committed: readonly CommittedView[], partition?: string): void {
    if (committed.length === 0) return;
    const sums = committed.map(({ record, sums }) => this.keep(record, sums, partition));
    if (!this.pendingSums) return this.restartChecksumRecord();
    try {
      this.pendingSums.append(sums);
    } catch (error) {
      // A failed append may leave part of a line: the next view rewrites the record whole.
      this.closeChecksumRecord();
      throw error;
    }
  }

  private keep(record: ViewRecord, levels: LevelChecksum[], partition?: string): ViewChecksums {
    const key = keyOf(record);
    this.records.set(key, record);
    if (partition) this.partitions.push({ time: record.time, setupId: record.setupId, file: partition });
    const sums = {
      time: record.time,
      setupId: record.setupId,
      file: partition ?? basename(this.h5Path),
      levels,
      record,
    };
    this.checksums.set(key, sums);
    return sums;
  }

  private restartChecksumRecord(): void {
    this.closeChecksumRecord();
    this.pendingSums = PendingChecksumFile.start(checksumPathFor(this.xmlPath), [...this.checksums.values()]);
  }

  private closeChecksumRecord(): void {
    this.pendingSums?.close();
    this.pendingSums = undefined;
  }

  private newRecord(shapeZyx: readonly number[], view: ViewDescription): ViewRecord {
    if (this.closed) throw new BdvError('STATE', 'the writer is closed');
    const record = describeView(this.setup, view, shapeZyx);
    this.assertNew(record);
    return record;
  }

  private holds(key: string): boolean {
    return this.records.has(key) || this.group.uncommitted.some((v) => keyOf(v.record) === key);
  }

  private assertNew(record: ViewRecord): void {
    if (this.holds(keyOf(record))) {
      throw new BdvError(
        'DUPLICATE_VIEW',
        `view time ${record.time}, setup ${record.setupId} was already written`,
        'view',
      );
    }
  }

  private virtualKey(index: Partial<ViewIndex>): string {
    const i = viewIndexOf(index);
    return `${i.time}:${setupIdOf(this.setup, i)}`;
  }
}

function checkOptions(h5Path: string, options: BdvWriterOptions) {
  if (!/\.h5$/i.test(h5Path)) throw invalid('output', `${h5Path} must end in .h5`);
  const format = resolveFormat(options, options.slabBytes);
  const layout = options.layout ?? 'single';
  if (!LAYOUTS.includes(layout)) throw invalid('layout', `must be ${LAYOUTS.join(' or ')}, got ${layout}`);
  const commitGroup = options.commitGroup ?? DEFAULT_COMMIT_GROUP;
  for (const [name, value] of Object.entries(commitGroup))
    if (!(Number.isFinite(value) && value >= 0))
      throw invalid(`commitGroup.${name}`, `must be a number >= 0, got ${value}`);
  return { format, layout, overwrite: options.overwrite ?? false, commitGroup };
}

function keyOf(r: { time: number; setupId: number }): string {
  return `${r.time}:${r.setupId}`;
}

/**
 * A new partitioned output starts with no file named like one of its partitions beside it: one
 * found later would be taken for this run's own by `--resume` (a partition its run committed but
 * did not record yet) and overwritten. Refused before anything is written.
 */
function assertNoPartitionFiles(h5Path: string): void {
  const found = partitionFilesBeside(h5Path);
  if (found.length > 0)
    throw new BdvError(
      'FILE_EXISTS',
      `partition ${join(dirname(h5Path), found[0]!.name)} already exists${found.length > 1 ? ` (and ${found.length - 1} more)` : ''} (pass overwrite to replace it)`,
      'output',
    );
}
