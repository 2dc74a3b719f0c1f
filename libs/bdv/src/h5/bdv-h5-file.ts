import { closeSync, existsSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { BdvError } from '../errors.js';
import type { CompressionSpec } from '../model/compression.js';
import type { LevelSpec, Zyx } from '../model/pyramid-spec.js';
import { reversed } from '../model/pyramid-spec.js';
import { cellsPath, setupGroupName, viewGroupPath } from './hdf5-paths.js';
import { HeapSlabWriter } from './heap-slab-writer.js';
import { loadH5, summarizeHdf5Error, type H5Api, type H5Runtime } from './h5wasm-runtime.js';
import { JournalHooks, rollBack } from './rollback-journal.js';

type H5File = InstanceType<H5Api['File']>;
type H5Group = InstanceType<H5Api['Group']>;
type H5Dataset = InstanceType<H5Api['Dataset']>;

const LZF_FILTER_ID = 32000;
/** HDF5's H5T_class_t of integer types (h5wasm's metadata `type`). */
const H5T_INTEGER = 0;

export interface CreateFileOptions {
  overwrite?: boolean;
}

/**
 * One BDV HDF5 file (or partition) on disk: creates the npy2bdv layout and writes cells. Knows
 * nothing of views' metadata or XML — only groups, datasets and bytes.
 */
export class BdvH5File {
  private readonly slabs: HeapSlabWriter;
  private closed = false;

  private readonly hooks: JournalHooks;
  private readonly api: H5Api;

  private constructor(
    readonly path: string,
    runtime: H5Runtime,
    private readonly file: H5File,
  ) {
    this.api = runtime.api;
    this.slabs = new HeapSlabWriter(runtime.module, path);
    this.hooks = JournalHooks.on(runtime.module.FS);
  }

  /** Creates a new file; an existing one is an error unless `overwrite` is set. */
  static async create(path: string, options: CreateFileOptions = {}): Promise<BdvH5File> {
    const runtime = await loadH5();
    if (existsSync(path)) {
      if (!options.overwrite) {
        throw new BdvError('FILE_EXISTS', `${path} already exists (pass overwrite to replace it)`, 'output');
      }
      rmSync(path);
    }
    return new BdvH5File(
      path,
      runtime,
      hdf5Call(`create ${path}`, () => new runtime.api.File(path, 'w'), JournalHooks.on(runtime.module.FS)),
    );
  }

  /**
   * Opens an existing file to append to it, under a rollback journal (rollback-journal.ts): the
   * append commits at close, or not at all. The caller holds the file's WriterFence and has
   * rolled back any hot journal first.
   */
  static async openForAppend(path: string): Promise<BdvH5File> {
    const runtime = await loadH5();
    if (!existsSync(path)) throw new BdvError('STATE', `${path} does not exist`, 'output');
    const hooks = JournalHooks.on(runtime.module.FS);
    hooks.arm(path);
    return new BdvH5File(
      path,
      runtime,
      hdf5Call(`open ${path}`, () => new runtime.api.File(path, 'a'), hooks),
    );
  }

  /** Opens a file to read it. */
  static async openForReading(path: string): Promise<BdvH5File> {
    const runtime = await loadH5();
    if (!existsSync(path)) throw new BdvError('STATE', `${path} does not exist`, 'output');
    return new BdvH5File(
      path,
      runtime,
      hdf5Call(`open ${path}`, () => new runtime.api.File(path, 'r')),
    );
  }

  get fileId(): bigint {
    return this.file.file_id;
  }

  /** `sSS/resolutions` (float64, x,y,z) and `sSS/subdivisions` (int32, x,y,z), as npy2bdv. */
  writeSetupHeader(setupId: number, levels: readonly LevelSpec[]): void {
    const group = this.ensureGroup(`/${setupGroupName(setupId)}`);
    const n = levels.length;
    const resolutions = new Float64Array(levels.flatMap((l) => reversed(l.factorsZyx)));
    const subdivisions = new Int32Array(levels.flatMap((l) => reversed(l.blockZyx)));
    hdf5Call(
      `write ${setupGroupName(setupId)} header`,
      () => {
        group.create_dataset({
          name: 'resolutions',
          data: resolutions,
          shape: [n, 3],
          dtype: '<d',
          maxshape: [null, 3],
          chunks: [n, 3],
        });
        group.create_dataset({
          name: 'subdivisions',
          data: subdivisions,
          shape: [n, 3],
          dtype: '<i',
          maxshape: [null, 3],
          chunks: [n, 3],
        });
      },
      this.hooks,
    );
  }

  /**
   * Creates `tTTTTT/sSS/L/cells` as int16 with unlimited maxshape (so chunks may exceed the data,
   * as in npy2bdv). An existing dataset of the same shape is reused, so a failed write can be
   * redone in place (HDF5 via h5wasm cannot unlink objects).
   */
  createCells(
    time: number,
    setupId: number,
    level: number,
    shapeZyx: Zyx,
    chunkZyx: Zyx,
    compression: CompressionSpec,
  ): void {
    this.slabs.expect(shapeZyx[0] * shapeZyx[1] * shapeZyx[2] * 2);
    const path = cellsPath(time, setupId, level);
    const existing = this.entryAt(path);
    if (existing) {
      const shape = (existing as H5Dataset).shape ?? [];
      if (shape.join() === shapeZyx.join()) return;
      throw new BdvError(
        'SHAPE_MISMATCH',
        `${path} already exists with shape ${shape.join('x')}, not ${shapeZyx.join('x')}`,
        'shapeZyx',
      );
    }
    const group = this.ensureGroup(`${viewGroupPath(time, setupId)}/${level}`);
    hdf5Call(
      `create ${path}`,
      () => {
        const dataset = group.create_dataset({
          name: 'cells',
          data: new Int16Array(0),
          shape: [0, shapeZyx[1], shapeZyx[2]],
          dtype: '<h',
          maxshape: [null, null, null],
          chunks: [...chunkZyx],
          ...compressionArgs(compression),
        });
        dataset.resize([...shapeZyx]);
      },
      this.hooks,
    );
  }

  /** Writes a (count z,y,x) block of uint16 bits at `offsetZyx` of one level's cells. */
  writeCells(
    time: number,
    setupId: number,
    level: number,
    offsetZyx: Zyx,
    countZyx: Zyx,
    data: Uint16Array,
  ): void {
    const path = cellsPath(time, setupId, level);
    hdf5Call(
      `write ${path}`,
      () => this.slabs.write(this.fileId, path, offsetZyx, countZyx, data),
      this.hooks,
    );
  }

  /** Shape (z,y,x) of one level's cells, or undefined if that dataset does not exist. */
  cellsShape(time: number, setupId: number, level: number): Zyx | undefined {
    const path = cellsPath(time, setupId, level);
    const dataset = this.entryAt(path);
    if (!(dataset instanceof this.api.Dataset)) return undefined;
    const shape = dataset.shape ?? [];
    return shape.length === 3 ? [shape[0]!, shape[1]!, shape[2]!] : undefined;
  }

  /** Planes per chunk of one level's cells (1 if it is not chunked or does not exist). */
  cellsChunkDepth(time: number, setupId: number, level: number): number {
    const path = cellsPath(time, setupId, level);
    const dataset = this.entryAt(path);
    if (!(dataset instanceof this.api.Dataset)) return 1;
    return dataset.metadata.chunks?.[0] ?? 1;
  }

  /**
   * Where one level's cells are stored, for reading them without HDF5: the address of the
   * dataset's object header (HDF5's object token, from an object reference), its shape, chunk
   * shape and filters' ids. Undefined if the dataset does not exist, is a link, or its cells are
   * not little-endian 16-bit integers (what a reader of the raw bytes would sum as HDF5 reads them).
   */
  cellsStorage(
    time: number,
    setupId: number,
    level: number,
  ): { objectAddress: number; shapeZyx: Zyx; chunkZyx: number[]; filters: number[] } | undefined {
    // A link (external, soft) is not a Dataset here: h5wasm's get() answers the link itself.
    const dataset = this.entryAt(cellsPath(time, setupId, level));
    if (!(dataset instanceof this.api.Dataset)) return undefined;
    const { type, size, littleEndian, chunks, shape } = dataset.metadata;
    if (type !== H5T_INTEGER || size !== 2 || !littleEndian || !chunks || shape?.length !== 3)
      return undefined;
    const shapeZyx: Zyx = [shape[0]!, shape[1]!, shape[2]!];
    const token = Buffer.from(dataset.create_reference().ref_data);
    if (token.length !== 8) return undefined;
    const objectAddress = Number(token.readBigUInt64LE(0));
    return { objectAddress, shapeZyx, chunkZyx: chunks, filters: dataset.filters.map((f) => f.id) };
  }

  /** Planes z0..z1 of one level's cells, as stored (int16 bits). */
  readCells(time: number, setupId: number, level: number, z0: number, z1: number): Int16Array {
    const path = cellsPath(time, setupId, level);
    return hdf5Call(
      `read ${path}`,
      () => (this.file.get(path) as H5Dataset).slice([[z0, z1]]) as Int16Array,
      this.hooks,
    );
  }

  /**
   * Planes z0..z1 of one level's cells lent to `use` (valid only during the call) from a reused
   * heap buffer: for reading whole levels back without a fresh buffer per slab.
   */
  withCells(
    time: number,
    setupId: number,
    level: number,
    z0: number,
    z1: number,
    use: (cells: Int16Array) => void,
  ): void {
    const path = cellsPath(time, setupId, level);
    const [, ny, nx] = this.cellsShape(time, setupId, level) ?? [0, 0, 0];
    // An error of `use` is the caller's own, not HDF5's: it leaves as thrown, not as "could not read".
    let failure: { error: unknown } | undefined;
    const lend = (cells: Int16Array) => {
      try {
        use(cells);
      } catch (error) {
        failure = { error };
      }
    };
    hdf5Call(
      `read ${path}`,
      () => this.slabs.read(this.fileId, path, [z0, 0, 0], [z1 - z0, ny, nx], lend),
      this.hooks,
    );
    if (failure) throw failure.error;
  }

  /** An HDF5 external link at `tTTTTT/sSS/L/cells` to the same path inside `partitionFile`. */
  linkExternalCells(time: number, setupId: number, level: number, partitionFile: string): void {
    const group = this.ensureGroup(`${viewGroupPath(time, setupId)}/${level}`);
    const target = cellsPath(time, setupId, level);
    hdf5Call(`link ${target}`, () => group.create_external_link(partitionFile, target, 'cells'), this.hooks);
  }

  /** Closes the file and fsyncs it: after this returns, the data is durably on disk. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.slabs.release();
    try {
      hdf5Call(`close ${this.path}`, () => this.file.close(), this.hooks);
    } catch (error) {
      // HDF5 keeps a file whose final flush failed open: free its descriptors, or a full disk
      // stays full (deleted files held open) until the process exits.
      this.hooks.closeLeftovers(this.path);
      throw error;
    }
    const fd = openSync(this.path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Flushes everything HDF5 holds to the file (no fsync) and marks that state as the point an
   * `abortToSavepoint` returns to. An append only.
   */
  savepoint(): void {
    hdf5Call(`flush ${this.path}`, () => this.file.flush(), this.hooks);
    this.hooks.markSavepoint(this.path);
  }

  /**
   * Closes an append whose last part must not count: the file goes back to its last savepoint and
   * that is committed. Returns false if it went back to what it was when opened instead (no
   * savepoint, or undoing to it failed: the journal restored the last commit). Never throws for
   * the close itself.
   */
  abortToSavepoint(): boolean {
    if (this.closed) return false;
    const toSavepoint = this.hooks.undoToSavepointAtClose(this.path);
    try {
      this.close();
    } catch {
      // Even a close HDF5 could not finish reaches the journal's close (closeLeftovers).
    }
    this.closeWhatHdf5Kept();
    // A journal left means the undo (or the close) failed half-way: back to the last commit.
    try {
      return !rollBack(this.path) && toSavepoint;
    } catch {
      return false; // the journal stays: the next open (under the fence) rolls it back
    }
  }

  /**
   * Closes an append that must not count: the file goes back to what it was when opened (its
   * journal is applied instead of deleted). Never throws for the close itself.
   */
  abort(): void {
    if (this.closed) return;
    this.hooks.rollBackAtClose(this.path);
    try {
      this.close();
    } catch {
      // the rollback below restores the file whatever the close managed to flush
    } finally {
      this.closeWhatHdf5Kept();
      rollBack(this.path);
    }
  }

  /**
   * After a write failed inside HDF5 (a full volume), h5wasm's write leaves the dataset open, so
   * HDF5's close returns with the file still open underneath: its descriptor and the journal's
   * stayed open for the life of the process, the deleted journal's space with them. Closed here,
   * on the abort paths only: the journal's close then rolls back or undoes, which needs nothing
   * HDF5 still holds. A normal close never gets here.
   */
  private closeWhatHdf5Kept(): void {
    this.hooks.closeLeftovers(this.path);
  }

  /**
   * What is at `path`, or null: one lookup by path. Listing a parent's links instead (`keys()`)
   * costs time in the number of links, per call: creating n setups was quadratic (4,000 took
   * 13 s) and every view's write paid for listing all timepoints and setups. HDF5 fails the
   * lookup of a path through a dataset or a dangling link instead of answering no: nothing usable
   * is there either.
   */
  private entryAt(path: string): ReturnType<H5Group['get']> {
    try {
      return this.file.get(path);
    } catch {
      return null;
    }
  }

  private ensureGroup(path: string): H5Group {
    let group: H5Group = this.file;
    for (const part of path.split('/').filter(Boolean)) {
      const next =
        group.get(part) ?? hdf5Call(`create group ${part}`, () => group.create_group(part), this.hooks);
      if (!(next instanceof this.api.Group)) {
        throw new BdvError('HDF5', `${group.path}/${part} exists and is not a group`);
      }
      group = next;
    }
    return group;
  }
}

function compressionArgs(c: CompressionSpec): {
  compression?: number | 'gzip';
  compression_opts?: number | number[];
} {
  if (c.name === 'gzip') return { compression: 'gzip', compression_opts: c.level };
  if (c.name === 'lzf') return { compression: LZF_FILTER_ID, compression_opts: [] };
  return {};
}

/** Runs an HDF5 call and turns its diagnostic stack into a one-line BdvError. */
function hdf5Call<T>(what: string, call: () => T, hooks?: JournalHooks): T {
  if (hooks) hooks.lastFailure = undefined;
  try {
    const result = call();
    // Joined writes (write-combiner.ts) go to the file before the call returns: one that fails
    // is this call's failure, named as any other, never a later call's (a lookup swallowing it).
    hooks?.writeHeld();
    return result;
  } catch (error) {
    hooks?.closeDiagnosticFiles();
    const io = hooks?.lastFailure;
    if (io && OUTPUT_GONE[io.code]) {
      // HDF5 itself only says "driver write request failed": name the real cause and the volume.
      throw new BdvError(
        'OUTPUT_UNAVAILABLE',
        `output volume ${OUTPUT_GONE[io.code]} (${dirname(io.path)}): could not ${what}`,
        'output',
      );
    }
    if (error instanceof BdvError) throw error;
    throw new BdvError('HDF5', `HDF5 could not ${what}: ${summarizeHdf5Error(error)}`);
  }
}

const OUTPUT_GONE: Record<string, string> = {
  ENOSPC: 'full',
  EDQUOT: 'over its quota',
  EROFS: 'read-only',
};
