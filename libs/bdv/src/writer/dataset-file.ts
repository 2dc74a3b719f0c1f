import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BdvError } from '../errors.js';
import { BdvH5File } from '../h5/bdv-h5-file.js';
import { levelShape, type Zyx } from '../model/pyramid-spec.js';
import { setupCount } from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';
import type { BdvFormat } from './bdv-format.js';
import type { StackInput, ViewProgress } from './stack-input.js';
import { writeViewLevels } from './view-writer.js';

/**
 * One open BDV .h5 of a known format: the only place that lays out setup headers, view levels
 * and partition links, whoever writes (BdvWriter, a cluster writer, the finalizer).
 */
export class DatasetFile {
  private constructor(
    readonly format: BdvFormat,
    private readonly h5: BdvH5File,
  ) {}

  /** A new file holding every setup's header, as npy2bdv writes them up front. */
  static async create(path: string, format: BdvFormat, overwrite = false): Promise<DatasetFile> {
    const setups = Array.from({ length: setupCount(format.setup) }, (_, s) => s);
    return DatasetFile.createWithHeaders(path, format, setups, overwrite);
  }

  /** The dataset file views are appended to: opened, or created with every header when absent. */
  static async openOrCreate(path: string, format: BdvFormat): Promise<DatasetFile> {
    if (existsSync(path)) return new DatasetFile(format, await BdvH5File.open(path, 'a'));
    mkdirSync(dirname(path), { recursive: true });
    return DatasetFile.create(path, format);
  }

  /** A partition file: the header of its one setup, then its view. Replaces a leftover file. */
  static async createPartition(path: string, format: BdvFormat, setupId: number): Promise<DatasetFile> {
    mkdirSync(dirname(path), { recursive: true });
    return DatasetFile.createWithHeaders(path, format, [setupId], true);
  }

  private static async createWithHeaders(
    path: string,
    format: BdvFormat,
    setupIds: readonly number[],
    overwrite: boolean,
  ): Promise<DatasetFile> {
    const h5 = await BdvH5File.create(path, { overwrite });
    try {
      for (const s of setupIds) h5.writeSetupHeader(s, format.levels);
    } catch (error) {
      h5.close();
      throw error;
    }
    return new DatasetFile(format, h5);
  }

  /** Streams one stack into every pyramid level of the view `record` describes. */
  async writeView(
    record: ViewRecord,
    stack: StackInput,
    onProgress?: (p: ViewProgress) => void,
  ): Promise<void> {
    if (record.shapeZyx.join() !== stack.shapeZyx.join()) {
      throw new BdvError(
        'SHAPE_MISMATCH',
        `the view is described as ${record.shapeZyx.join('x')} but its stack is ${stack.shapeZyx.join('x')}`,
        'shapeZyx',
      );
    }
    const { levels, compression, slabBytes } = this.format;
    await writeViewLevels(
      { file: this.h5, time: record.time, setupId: record.setupId, levels, compression, slabBytes },
      stack,
      onProgress,
    );
  }

  /** Creates every level of a view whose planes arrive later (npy2bdv's virtual stacks). */
  createEmptyView(record: ViewRecord): void {
    this.format.levels.forEach((level, index) =>
      this.h5.createCells(
        record.time,
        record.setupId,
        index,
        levelShape(record.shapeZyx, level.factorsZyx),
        level.blockZyx,
        this.format.compression,
      ),
    );
  }

  /** Writes a (z,y,x) block of one level of a view at `offsetZyx`. */
  writeBlock(record: ViewRecord, level: number, offsetZyx: Zyx, countZyx: Zyx, data: Uint16Array): void {
    this.h5.writeCells(record.time, record.setupId, level, offsetZyx, countZyx, data);
  }

  /** External links from every level of a view to the same paths in its partition file. */
  linkPartition(view: { time: number; setupId: number }, partitionFile: string): void {
    this.format.levels.forEach((_, level) =>
      this.h5.linkExternalCells(view.time, view.setupId, level, partitionFile),
    );
  }

  /** Closes and fsyncs: afterwards the data is durably on disk. */
  close(): void {
    this.h5.close();
  }
}
