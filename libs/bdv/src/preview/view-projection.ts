import { closeSync, existsSync, fstatSync, openSync, statSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { BdvError } from '../errors.js';
import { BdvH5File } from '../h5/bdv-h5-file.js';
import { readSlabDepth } from '../h5/read-slab-depth.js';
import { journalPathOf } from '../h5/rollback-journal.js';
import { fenceFileOf, WriterFence } from '../h5/writer-fence.js';
import { MAX_LEVELS } from '../model/limits.js';
import type { Zyx } from '../model/pyramid-spec.js';
import { chooseLevel, DEFAULT_PREVIEW_SIZE, MAX_PREVIEW_SIZE, type ProjectionAxis } from './level-choice.js';
import { emptyProjection, foldSlab, type GrayImage16 } from './projection.js';

/** One view of a BDV file, and how the file may be read. */
export interface PreviewSource {
  /** The .h5 holding the view: the dataset's single file, or the view's partition. */
  h5Path: string;
  time: number;
  setupId: number;
  /**
   * The file may be appended to while we read (a single-layout .h5 of a dataset still being
   * written): read only under its write fence, and never while a crashed append's `.journal`
   * lies beside it — i.e. only committed state. False for files that appear whole and never
   * change (partitions, written under a temporary name and renamed).
   */
  appendable: boolean;
}

export interface ProjectOptions {
  axis?: ProjectionAxis;
  /** Longest side of the projection, px (512; at most 2048). */
  maxSize?: number;
  /** How long to wait for a writer holding an appendable file's fence (0: try once). */
  waitMs?: number;
  /**
   * Planes are read about this many bytes at a time, whole chunks deep (each chunk decompressed
   * once): memory stays bounded whatever the stack's depth.
   */
  slabBytes?: number;
  /**
   * Longest a read keeps an appendable file's fence, once a writer has asked for it
   * (WriterFence.wanted), before letting writers in for `pauseMs` (a one-level pyramid of a large
   * stack takes long to read; a writer waits 5 s for the fence). Nobody asking, it keeps it.
   */
  holdMs?: number;
  pauseMs?: number;
}

/** A maximum projection and where it was read from. */
export interface ViewProjection extends GrayImage16 {
  axis: ProjectionAxis;
  level: number;
  levelShapeZyx: Zyx;
  /** Each pixel is the maximum of shrink x shrink projected pixels of that level (1: none). */
  shrink: number;
}

const DEFAULT_SLAB_BYTES = 8 * 1024 * 1024;

/**
 * The maximum projection of one view along `axis`, from the finest pyramid level that fits in
 * `maxSize` px (level-choice.ts) — never a finer level than that. Planes are read in slabs of
 * `slabBytes` through libs/bdv's own HDF5 layer, so memory is one slab plus the image.
 * FILE_LOCKED when an appendable file stays busy longer than `waitMs`; STATE when the file or
 * view is not there.
 */
export async function projectView(
  source: PreviewSource,
  options: ProjectOptions = {},
): Promise<ViewProjection> {
  const [projection] = await projectViewsOfFile([source], options);
  return projection!;
}

/**
 * projectView for several views of one file (a contact sheet of a single .h5): one open and,
 * for an appendable file, one wait for its fence — the views are read back to back while a
 * writer's turn would have to be waited for again before each.
 */
export async function projectViewsOfFile(
  sources: readonly PreviewSource[],
  options: ProjectOptions = {},
): Promise<ViewProjection[]> {
  const axis = options.axis ?? 'z';
  const maxSize = options.maxSize ?? DEFAULT_PREVIEW_SIZE;
  if (!(Number.isInteger(maxSize) && maxSize >= 16 && maxSize <= MAX_PREVIEW_SIZE))
    throw new BdvError(
      'OUT_OF_RANGE',
      `size must be an integer 16..${MAX_PREVIEW_SIZE}, got ${maxSize}`,
      'size',
    );
  if (sources.length === 0) return [];
  if (new Set(sources.map((s) => s.h5Path)).size > 1)
    throw new BdvError('INVALID_ARGUMENT', 'views of one file only', 'sources');
  const session = new ReadSession(sources[0]!, options);
  const projections: ViewProjection[] = [];
  try {
    let file = await session.open();
    for (const source of sources) {
      const shapes = levelShapes(file, source);
      const { level, shrink } = chooseLevel(shapes, axis, maxSize);
      const shape = shapes[level]!;
      const image = emptyProjection(shape, axis, shrink);
      const chunkDepth = file.cellsChunkDepth(source.time, source.setupId, level);
      const depth = readSlabDepth(shape, chunkDepth, options.slabBytes ?? DEFAULT_SLAB_BYTES);
      for (let z = 0; z < shape[0]; z += depth) {
        file = await session.keepOrReopen(file, (reopened) => {
          if (levelShapes(reopened, source)[level]?.join() !== shape.join())
            throw new BdvError('STATE', `${describe(source)} changed while it was read`, 'view');
        });
        // into a heap block the allocator hands back slab after slab: no JavaScript buffer per slab
        file.withCells(source.time, source.setupId, level, z, Math.min(shape[0], z + depth), (cells) =>
          foldSlab(
            image,
            new Uint16Array(cells.buffer, cells.byteOffset, cells.length),
            shape,
            z,
            axis,
            shrink,
          ),
        );
        await yieldToEventLoop(); // a server reading a preview keeps answering meanwhile
      }
      projections.push({ ...image, axis, level, levelShapeZyx: shape, shrink });
    }
    session.assertNoWriterMeanwhile();
    return projections;
  } finally {
    await session.close();
  }
}

/** Every level's (z,y,x) shape, finest first. */
function levelShapes(file: BdvH5File, source: PreviewSource): Zyx[] {
  const shapes: Zyx[] = [];
  for (let level = 0; level < MAX_LEVELS; level++) {
    const shape = file.cellsShape(source.time, source.setupId, level);
    if (!shape) break;
    shapes.push(shape);
  }
  if (shapes.length === 0) throw new BdvError('STATE', `${describe(source)} holds no data`, 'view');
  return shapes;
}

/** FILE_LOCKED (the API's 503): the file is being rewritten, a later try reads the new one. */
function replaced(h5Path: string): BdvError {
  return new BdvError(
    'FILE_LOCKED',
    `${h5Path} was replaced or removed while it was read; try again`,
    'view',
  );
}

function describe(source: PreviewSource): string {
  return `view t${source.time} s${source.setupId} of ${source.h5Path}`;
}

/**
 * The file handle (and, for an appendable file, its fence) of one projection: once a writer asks
 * for the fence (WriterFence.wanted), holds it at most `holdMs` more before a pause, re-opening
 * the file after the pause (the writer may have appended); nobody asking, it keeps it.
 */
class ReadSession {
  private fence: WriterFence | undefined;
  private file: BdvH5File | undefined;
  private heldSince = 0;
  /** A descriptor of the file as first opened, kept across pauses (see keepSameFile). */
  private pinned: number | undefined;
  /** Read without a fence: no lock file, none creatable by this process (WriterFence.acquire). */
  private unfenced = false;

  constructor(
    private readonly source: PreviewSource,
    private readonly options: ProjectOptions,
  ) {}

  async open(): Promise<BdvH5File> {
    const { h5Path, appendable } = this.source;
    if (!existsSync(h5Path))
      throw this.pinned === undefined
        ? new BdvError('STATE', `${h5Path} does not exist`, 'view')
        : replaced(h5Path);
    if (appendable) {
      this.fence = await WriterFence.acquire(h5Path, {
        waitSeconds: (this.options.waitMs ?? 0) / 1000,
        reader: true,
      });
      this.unfenced ||= !this.fence && !existsSync(fenceFileOf(h5Path));
      this.heldSince = Date.now();
      // Under the fence no writer is live: a journal means an append crashed and was not yet
      // rolled back (the next writer does that). Its bytes are not committed state: do not read.
      if (existsSync(journalPathOf(h5Path))) {
        await this.letGo();
        throw new BdvError(
          'FILE_LOCKED',
          `${h5Path} has an unfinished append (the next writer rolls it back)`,
          'view',
        );
      }
      this.keepSameFile();
    }
    this.file = await BdvH5File.openForReading(h5Path);
    return this.file;
  }

  /**
   * An appendable file only (a partition is never re-opened). A writer let in during a pause may
   * have replaced the file (`bdv convert --overwrite`, a deletion and a new dataset): the slabs
   * after the pause would come from another stack. An append keeps the file's inode; a
   * replacement does not — and while this session holds a descriptor of the first file, its inode
   * number cannot be handed to the new one (a closed, removed file's number often is; birth times
   * are not kept by every volume, and where statx is refused Node reports the change time
   * instead, which every append moves). FILE_LOCKED: a file being rewritten, try again.
   */
  private keepSameFile(): void {
    const { h5Path } = this.source;
    if (this.pinned === undefined) {
      try {
        this.pinned = openSync(h5Path, 'r');
      } catch (error) {
        // removed while this read waited for its fence, or unreadable: as HDF5 would have said
        throw new BdvError('STATE', `${h5Path} cannot be opened: ${(error as Error).message}`, 'view');
      }
      return;
    }
    const first = fstatSync(this.pinned);
    const now = statSync(h5Path, { throwIfNoEntry: false });
    if (now && now.dev === first.dev && now.ino === first.ino) return;
    throw replaced(h5Path);
  }

  /**
   * The same file, or — after holding an appendable file's fence for `holdMs` while a writer asks
   * for it — a pause and a fresh open.
   */
  async keepOrReopen(file: BdvH5File, check: (reopened: BdvH5File) => void): Promise<BdvH5File> {
    if (!this.fence || Date.now() - this.heldSince < (this.options.holdMs ?? 1000)) return file;
    if (!WriterFence.wanted(this.source.h5Path)) return file;
    await this.letGo();
    await new Promise((r) => setTimeout(r, this.options.pauseMs ?? 2000));
    const reopened = await this.open();
    check(reopened);
    return reopened;
  }

  /**
   * A read without a fence (a folder this process cannot write in, and no lock file) assumed no
   * writer; another user who can write there may have started one meanwhile, whose first act is
   * to create the lock file. Then what was read may mix two states: FILE_LOCKED, try again.
   */
  assertNoWriterMeanwhile(): void {
    const { h5Path } = this.source;
    if (this.unfenced && existsSync(fenceFileOf(h5Path)))
      throw new BdvError('FILE_LOCKED', `${h5Path}: a writer started while it was read; try again`, 'view');
  }

  /** Ends the session: the file, its fence and the descriptor kept across pauses. */
  async close(): Promise<void> {
    try {
      await this.letGo();
    } finally {
      if (this.pinned !== undefined) closeSync(this.pinned);
      this.pinned = undefined;
    }
  }

  /** Closes the file and lets go of its fence (for a pause, or at the end). */
  private async letGo(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    try {
      file?.close();
    } finally {
      const fence = this.fence;
      this.fence = undefined;
      await fence?.release();
    }
  }
}
