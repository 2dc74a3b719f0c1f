import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BdvError } from '../errors.js';
import { BdvH5File } from '../h5/bdv-h5-file.js';
import type { LevelChecksum } from '../model/checksums.js';
import { levelShape, type Zyx } from '../model/pyramid-spec.js';
import { setupCount } from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';
import type { BdvFormat } from './bdv-format.js';
import type { StackInput, ViewProgress } from './stack-input.js';
import { writeViewLevels } from './view-writer.js';

/**
 * One open BDV .h5 of a known format: the only place that lays out setup headers, view levels
 * and partition links, whoever writes (BdvWriter, a cluster writer, the finalizer). Files come
 * into being whole: built under a temporary name, fsynced, renamed (see `buildFile`).
 */
export class DatasetFile {
  private constructor(
    readonly format: BdvFormat,
    private readonly h5: BdvH5File,
  ) {}

  /** A new file at `path` holding every setup's header, as npy2bdv writes them up front. */
  static async createEmpty(path: string, format: BdvFormat): Promise<void> {
    const setups = Array.from({ length: setupCount(format.setup) }, (_, s) => s);
    await buildFile(path, format, (file) => {
      for (const s of setups) file.h5.writeSetupHeader(s, format.levels);
    });
  }

  /**
   * An existing dataset file, opened to append under its rollback journal: `close` commits the
   * append, `abort` undoes it. The caller holds the file's WriterFence and rolled back first.
   */
  static async openForAppend(path: string, format: BdvFormat): Promise<DatasetFile> {
    return new DatasetFile(format, await BdvH5File.openForAppend(path));
  }

  /** A file being built under a temporary name (no journal: until renamed it is nobody's). */
  static async createScratch(path: string, format: BdvFormat): Promise<DatasetFile> {
    mkdirSync(dirname(path), { recursive: true });
    return new DatasetFile(format, await BdvH5File.create(path, { overwrite: true }));
  }

  writeSetupHeader(setupId: number): void {
    this.h5.writeSetupHeader(setupId, this.format.levels);
  }

  /** Streams one stack into every pyramid level of the view `record` describes. */
  async writeView(
    record: ViewRecord,
    stack: StackInput,
    onProgress?: (p: ViewProgress) => void,
  ): Promise<LevelChecksum[]> {
    if (record.shapeZyx.join() !== stack.shapeZyx.join()) {
      throw new BdvError(
        'SHAPE_MISMATCH',
        `the view is described as ${record.shapeZyx.join('x')} but its stack is ${stack.shapeZyx.join('x')}`,
        'shapeZyx',
      );
    }
    const { levels, compression, slabBytes } = this.format;
    return writeViewLevels(
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

  /** Closes and fsyncs (an append: commits it). Afterwards the data is durably on disk. */
  close(): void {
    this.h5.close();
  }

  /** Undoes an append: the file is what it was when opened. */
  abort(): void {
    this.h5.abort();
  }

  /** Marks what the append wrote so far as the point `abortToSavepoint` keeps (flushed, not fsynced). */
  savepoint(): void {
    this.h5.savepoint();
  }

  /**
   * Undoes an append back to its last savepoint and commits that; false if it went back to what
   * the file was when opened instead (no savepoint, or undoing failed).
   */
  abortToSavepoint(): boolean {
    return this.h5.abortToSavepoint();
  }
}

/**
 * Builds a file whole under a temporary name beside `path`, fsyncs it and renames it into place:
 * a reader (or a crash) sees no file or the whole file, never part of one.
 */
export async function buildFile(
  path: string,
  format: BdvFormat,
  fill: (file: DatasetFile) => void | Promise<void>,
): Promise<void> {
  const scratch = join(dirname(path), `.${basename(path)}.${process.pid}-${Date.now().toString(36)}.tmp`);
  const file = await DatasetFile.createScratch(scratch, format);
  try {
    await fill(file);
    file.close();
  } catch (error) {
    try {
      file.close();
    } catch {
      // the scratch file goes anyway
    }
    rmSync(scratch, { force: true });
    throw error;
  }
  renameSync(scratch, path);
  fsyncFolderOf(path);
}

export function fsyncFolderOf(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
