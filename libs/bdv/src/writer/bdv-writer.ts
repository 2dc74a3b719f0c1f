import { existsSync, writeFileSync, renameSync } from 'node:fs';
import { basename } from 'node:path';
import { BdvError, invalid } from '../errors.js';
import { BdvH5File } from '../h5/bdv-h5-file.js';
import { resolveCompression, type CompressionName, type CompressionSpec } from '../model/compression.js';
import {
  assertStackShape,
  levelShape,
  resolveLevels,
  type LevelSpec,
  type Zyx,
} from '../model/pyramid-spec.js';
import {
  assertTimeIndex,
  countFieldOf,
  resolveSetupCounts,
  setupCount,
  setupIdOf,
  type SetupAttributeName,
  type SetupCounts,
  type ViewIndex,
} from '../model/setup-model.js';
import { resolveViewMetadata, type ViewMetadataInput, type ViewRecord } from '../model/view-metadata.js';
import { addPlaneBlockSums, downsampleStack, takeBlockMeans } from '../pyramid/block-mean.js';
import type {
  AttributeLabels,
  MicroscopeInfo,
  PartitionRecord,
  SpimDataDescription,
} from '../xml/spimdata-model.js';
import { buildSpimDataXml } from '../xml/spimdata-xml.js';
import { partitionPathFor, xmlPathFor } from './output-paths.js';
import type { StackInput, ViewProgress } from './stack-input.js';
import { writeViewLevels } from './view-writer.js';

export type Layout = 'single' | 'partitioned';

export interface BdvWriterOptions {
  setup?: Partial<SetupCounts>;
  /** Per-level subsampling factors, z,y,x (default [[1,1,1]]). */
  subsamplingZyx?: number[][];
  /** Per-level chunk shape, z,y,x (default [[4,256,256]]; one entry serves every level). */
  blockSizeZyx?: number[][];
  compression?: CompressionName;
  compressionLevel?: number;
  /** Replace an existing output file instead of refusing. */
  overwrite?: boolean;
  layout?: Layout;
  /** Target bytes per HDF5 write; bounds memory (about slab x levels x 3). */
  slabBytes?: number;
}

export interface AppendViewOptions extends Partial<ViewIndex>, ViewMetadataInput {
  onProgress?: (progress: ViewProgress) => void;
}

export interface WriteXmlOptions {
  microscope?: MicroscopeInfo;
  cameraName?: string;
  timepoints?: number;
}

/**
 * Writes a BDV HDF5 file the way npy2bdv's BdvWriter does (same layout, ids, pyramid and XML),
 * streaming each view in z-slabs: create -> appendView ... -> writeXml -> close.
 */
export class BdvWriter {
  private readonly records = new Map<string, ViewRecord>();
  private readonly virtualViews = new Map<string, ViewRecord>();
  private readonly partitions: PartitionRecord[] = [];
  private labels: AttributeLabels = {};
  private closed = false;

  private constructor(
    readonly h5Path: string,
    readonly setup: SetupCounts,
    readonly levels: readonly LevelSpec[],
    readonly compression: CompressionSpec,
    readonly layout: Layout,
    private readonly file: BdvH5File,
    private readonly options: BdvWriterOptions,
  ) {}

  static async create(h5Path: string, options: BdvWriterOptions = {}): Promise<BdvWriter> {
    if (!/\.h5$/i.test(h5Path)) throw invalid('output', `${h5Path} must end in .h5`);
    const setup = resolveSetupCounts(options.setup);
    const levels = resolveLevels(options.subsamplingZyx, options.blockSizeZyx);
    const compression = resolveCompression(options.compression, options.compressionLevel);
    const layout = options.layout ?? 'single';
    if (layout !== 'single' && layout !== 'partitioned')
      throw invalid('layout', `must be single or partitioned, got ${layout}`);
    const file = await BdvH5File.create(h5Path, options);
    try {
      for (let s = 0; s < setupCount(setup); s++) file.writeSetupHeader(s, levels);
    } catch (error) {
      file.close();
      throw error;
    }
    return new BdvWriter(h5Path, setup, levels, compression, layout, file, options);
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
      await writePartitionFile(plan, stack, options.onProgress);
      return this.adoptPartition(plan);
    }
    const record = this.newRecord(stack.shapeZyx, options);
    await writeViewLevels(
      {
        file: this.file,
        time: record.time,
        setupId: record.setupId,
        levels: this.levels,
        compression: this.compression,
        slabBytes: this.options.slabBytes,
      },
      stack,
      options.onProgress,
    );
    this.records.set(keyOf(record), record);
    return record;
  }

  /**
   * Partitioned layout, first step of a view written elsewhere (another thread or process):
   * validates it and names its partition file. `writePartitionFile` writes it (no writer state
   * needed), `adoptPartition` links it into the master afterwards.
   */
  planPartition(shapeZyx: number[], options: AppendViewOptions = {}): PartitionPlan {
    if (this.layout !== 'partitioned')
      throw new BdvError('STATE', 'planPartition needs the partitioned layout', 'layout');
    const record = this.newRecord(shapeZyx, options);
    const path = partitionPathFor(this.h5Path, record.time, record.setupId);
    if (existsSync(path) && !this.options.overwrite) {
      throw new BdvError(
        'FILE_EXISTS',
        `partition ${path} already exists (pass overwrite to replace it)`,
        'output',
      );
    }
    return {
      record,
      path,
      levels: [...this.levels],
      compression: this.compression,
      slabBytes: this.options.slabBytes,
    };
  }

  /** Links a written partition into the master file and records the view for the XML. */
  adoptPartition(plan: PartitionPlan): ViewRecord {
    const { record } = plan;
    if (this.records.has(keyOf(record))) {
      throw new BdvError(
        'DUPLICATE_VIEW',
        `view time ${record.time}, setup ${record.setupId} was already written`,
        'view',
      );
    }
    const relative = basename(plan.path);
    this.levels.forEach((_, level) =>
      this.file.linkExternalCells(record.time, record.setupId, level, relative),
    );
    this.partitions.push({ path: relative, timepoints: [record.time], setups: [record.setupId] });
    this.records.set(keyOf(record), record);
    return record;
  }

  /**
   * Starts a view whose planes arrive later, one by one (acquisition) or in substacks
   * (npy2bdv's append_view(None, virtual_stack_dim)). Single layout only.
   */
  beginVirtualView(shapeZyx: number[], options: AppendViewOptions = {}): ViewRecord {
    if (this.layout !== 'single')
      throw new BdvError('UNSUPPORTED', 'virtual views need the single layout', 'layout');
    const record = this.newRecord(assertStackShape('shapeZyx', shapeZyx), options);
    this.levels.forEach((level, index) =>
      this.file.createCells(
        record.time,
        record.setupId,
        index,
        levelShape(record.shapeZyx, level.factorsZyx),
        level.blockZyx,
        this.compression,
      ),
    );
    this.records.set(keyOf(record), record);
    this.virtualViews.set(keyOf(record), record);
    return record;
  }

  /** Writes plane `z` of a virtual view into every level (levels must not subsample z). */
  appendPlane(plane: Uint16Array, z: number, index: Partial<ViewIndex> = {}): void {
    const record = this.virtualView(index);
    const [nz, ny, nx] = record.shapeZyx;
    if (plane.length !== ny * nx)
      throw invalid('plane', `has ${plane.length} values, the view's planes are ${ny}x${nx}`);
    if (!Number.isInteger(z) || z < 0 || z >= nz)
      throw new BdvError('OUT_OF_RANGE', `plane index ${z} outside 0..${nz - 1}`, 'z');
    this.levels.forEach((level, l) => {
      const [fz, fy, fx] = level.factorsZyx;
      if (fz !== 1)
        throw new BdvError(
          'UNSUPPORTED',
          `appendPlane needs z-subsampling 1, level ${l} has ${fz}`,
          'subsamplingZyx',
        );
      const [, nyo, nxo] = levelShape(record.shapeZyx, level.factorsZyx);
      let out = plane;
      if (fy !== 1 || fx !== 1) {
        const acc = new Float64Array(nyo * nxo);
        addPlaneBlockSums(plane, ny, nx, fy, fx, acc);
        out = new Uint16Array(nyo * nxo);
        takeBlockMeans(acc, fy * fx, out);
      }
      this.file.writeCells(record.time, record.setupId, l, [z, 0, 0], [1, nyo, nxo], out);
    });
  }

  /**
   * Writes a (z,y,x) block of a virtual view at `startZyx`; each level gets the block's own
   * zero-padded mean at offset floor(start / f), as npy2bdv's append_substack.
   */
  appendSubstack(
    substack: Uint16Array,
    shapeZyx: number[],
    startZyx: number[],
    index: Partial<ViewIndex> = {},
  ): void {
    const record = this.virtualView(index);
    const shape = assertStackShape('substack shape', shapeZyx);
    if (substack.length !== shape[0] * shape[1] * shape[2]) invalidLength(substack.length, shape);
    for (let axis = 0; axis < 3; axis++) {
      const start = startZyx[axis]!;
      if (!Number.isInteger(start) || start < 0 || start + shape[axis]! > record.shapeZyx[axis]!) {
        throw new BdvError(
          'OUT_OF_RANGE',
          `substack ${'zyx'[axis]} range ${start}..${start + shape[axis]!} exceeds ${record.shapeZyx[axis]}`,
          'startZyx',
        );
      }
    }
    this.levels.forEach((level, l) => {
      const f = level.factorsZyx;
      const full = levelShape(record.shapeZyx, f);
      const offset: Zyx = [
        Math.floor(startZyx[0]! / f[0]),
        Math.floor(startZyx[1]! / f[1]),
        Math.floor(startZyx[2]! / f[2]),
      ];
      const block = downsampleStack(substack, shape, f);
      const blockShape = levelShape(shape, f);
      const count = blockShape.map((n, a) => Math.min(n, full[a]! - offset[a]!)) as Zyx;
      const data = count.join() === blockShape.join() ? block : cropBlock(block, blockShape, count);
      this.file.writeCells(record.time, record.setupId, l, offset, count, data);
    });
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
      partitions: this.partitions.length > 0 ? this.partitions : undefined,
      ...options,
    };
  }

  /** Writes the XML beside the .h5 (atomically: a reader never sees half a file). */
  writeXml(options: WriteXmlOptions = {}): string {
    const xml = buildSpimDataXml(this.describe(options));
    const tmp = `${this.xmlPath}.tmp`;
    writeFileSync(tmp, xml);
    renameSync(tmp, this.xmlPath);
    return this.xmlPath;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.close();
  }

  private newRecord(shapeZyx: number[], options: AppendViewOptions): ViewRecord {
    if (this.closed) throw new BdvError('STATE', 'the writer is closed');
    const index = viewIndexOf(options);
    assertTimeIndex(index.time);
    const setupId = setupIdOf(this.setup, index);
    const shape = assertStackShape('shapeZyx', shapeZyx);
    const key = `${index.time}:${setupId}`;
    if (this.records.has(key)) {
      throw new BdvError(
        'DUPLICATE_VIEW',
        `view time ${index.time}, setup ${setupId} was already written`,
        'view',
      );
    }
    return { time: index.time, setupId, shapeZyx: shape, ...resolveViewMetadata(options) };
  }

  private virtualView(index: Partial<ViewIndex>): ViewRecord {
    const i = viewIndexOf(index);
    const record = this.virtualViews.get(`${i.time}:${setupIdOf(this.setup, i)}`);
    if (!record) throw new BdvError('STATE', 'call beginVirtualView for this view first', 'view');
    return record;
  }
}

function viewIndexOf(o: Partial<ViewIndex>): ViewIndex {
  return {
    time: o.time ?? 0,
    illumination: o.illumination ?? 0,
    channel: o.channel ?? 0,
    tile: o.tile ?? 0,
    angle: o.angle ?? 0,
  };
}

function keyOf(r: ViewRecord): string {
  return `${r.time}:${r.setupId}`;
}

function invalidLength(length: number, shape: Zyx): never {
  throw invalid('substack', `has ${length} values, not ${shape.join('x')}`);
}

function cropBlock(block: Uint16Array, shape: Zyx, count: Zyx): Uint16Array {
  const out = new Uint16Array(count[0] * count[1] * count[2]);
  for (let z = 0; z < count[0]; z++) {
    for (let y = 0; y < count[1]; y++) {
      const from = (z * shape[1] + y) * shape[2];
      out.set(block.subarray(from, from + count[2]), (z * count[1] + y) * count[2]);
    }
  }
  return out;
}

/** Everything needed to write one view's partition file, without the writer (plain data). */
export interface PartitionPlan {
  record: ViewRecord;
  path: string;
  levels: LevelSpec[];
  compression: CompressionSpec;
  slabBytes?: number;
}

/** Writes one partition: its setup's header and every level of the view; closed and fsynced. */
export async function writePartitionFile(
  plan: PartitionPlan,
  stack: StackInput,
  onProgress?: (p: ViewProgress) => void,
): Promise<void> {
  const file = await BdvH5File.create(plan.path, { overwrite: true });
  try {
    file.writeSetupHeader(plan.record.setupId, plan.levels);
    await writeViewLevels(
      {
        file,
        time: plan.record.time,
        setupId: plan.record.setupId,
        levels: plan.levels,
        compression: plan.compression,
        slabBytes: plan.slabBytes,
      },
      stack,
      onProgress,
    );
  } finally {
    file.close();
  }
}
