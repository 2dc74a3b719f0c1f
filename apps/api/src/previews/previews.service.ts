import { createHash } from 'node:crypto';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { BdvError } from '@bdv-cluster/bdv';
import {
  chooseLevel,
  contactSheetPng,
  DEFAULT_PREVIEW_SIZE,
  MAX_PREVIEW_SIZE,
  PROJECTION_AXES,
  ProjectionThread,
  ProjectionThreadStopped,
  ProjectionThreadStuck,
  SHEET_MAX_CELL,
  sheetProblem,
  viewPreviewPng,
  type PreviewSource,
  type ProjectionAxis,
  type SheetCell,
  type ViewProjection,
} from '@bdv-cluster/bdv/preview';
import { DatasetStore, type ClusterConfig, type DatasetRecord, type ViewEntry } from '@bdv-cluster/pipeline';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { CONFIG } from '../common/tokens.js';
import { asHttp } from '../common/domain-errors.js';
import { boundedInteger, queryError, refuseUnknownParams } from '../common/query-params.js';
import { ProjectionCache } from './projection-cache.js';
import {
  PREVIEW_READ_LIMITS,
  PreviewReadQueue,
  ReadCancelled,
  ReadOverrun,
  ReadWaitExpired,
} from './read-queue.js';

/** A PNG to send, and whether it may be cached (a sheet with cells still to read may not). */
export interface PngAnswer {
  png: Uint8Array;
  /** Strong validator of what the image shows; undefined for an image that is not final. */
  etag?: string;
  /** Views of a sheet left gray for now (busy file, read budget spent): ask again later. */
  pending: number;
}

export interface PreviewQuery {
  axis: ProjectionAxis;
  size: number;
}

/** How long one view's preview waits for a writer holding a single-layout file. */
const VIEW_WAIT_MS = 5000;
/** A sheet waits as long per file, and reads at most this many uncached views per request. */
const SHEET_WAIT_MS = 5000;
const SHEET_READS_PER_REQUEST = 16;

/**
 * Previews of the cluster's datasets, from the files on the output volume (libs/bdv's previews):
 * a view's preview reads the view's partition, or the dataset's single .h5 under its write fence
 * (committed state only; busy = 503, try again). Reads run one at a time on a thread of their own
 * (ProjectionThread: the API keeps answering while HDF5 reads), bounded in views queued and in
 * waiting time (more: 503, see read-queue.ts), and projections are cached by the checksums of
 * what was written.
 */
@Injectable()
export class PreviewsService implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new ProjectionCache();
  private readonly inFlight = new Map<string, SharedRead>();
  private readonly reads: PreviewReadQueue;
  private readonly logger = new Logger('Previews');
  // A crash is the server's problem, not the client's: logged here, answered with a fixed 503.
  private readonly thread = new ProjectionThread({
    onFailure: (error) => this.logger.error(`the preview thread failed: ${error.stack ?? error.message}`),
  });

  constructor(
    private readonly store: DatasetStore,
    @Inject(CONFIG) config: Pick<ClusterConfig, 'PREVIEW_QUEUE_VIEWS' | 'PREVIEW_QUEUE_WAIT_SECONDS'>,
  ) {
    this.reads = new PreviewReadQueue({
      ...PREVIEW_READ_LIMITS,
      maxViews: config.PREVIEW_QUEUE_VIEWS,
      waitMs: config.PREVIEW_QUEUE_WAIT_SECONDS * 1000,
    });
  }

  /** A build without the preview thread's entry fails at start, not at every preview. */
  onModuleInit(): void {
    ProjectionThread.assertInstalled();
  }

  async onModuleDestroy(): Promise<void> {
    await this.thread.close();
  }

  /** `gone`: aborted when the client closes its connection (a read still queued for it is dropped). */
  async viewPreview(
    datasetId: string,
    viewKey: string,
    query: PreviewQuery,
    gone?: AbortSignal,
  ): Promise<PngAnswer> {
    const dataset = await this.dataset(datasetId);
    const view = await asHttp(() => this.store.getView(datasetId, viewKey));
    if (!view) throw ApiError.notFound(`view ${viewKey} of dataset ${datasetId} does not exist`, 'viewKey');
    if (view.state !== 'done' || !view.result)
      throw ApiError.conflict(`view ${viewKey} has no data yet (it is ${view.state})`, 'viewKey');
    let projection: ViewProjection;
    try {
      projection = await this.projection(dataset, view, query, VIEW_WAIT_MS, gone);
    } catch (error) {
      throw previewError(error, viewKey);
    }
    return {
      png: viewPreviewPng(projection).png,
      etag: etagOf(['view', signatureOf(view), query.axis, query.size]),
      pending: 0,
    };
  }

  /**
   * The views of timepoint `time` (the first with any view, unless given): the views are walked in
   * time order a batch at a time and left once past it, so a sheet holds one timepoint's views
   * and one batch, not the whole dataset's.
   */
  private async timepointViews(
    datasetId: string,
    time: number | undefined,
  ): Promise<{ t: number | undefined; shown: ViewEntry[] }> {
    let t = time;
    const shown: ViewEntry[] = [];
    for await (const batch of this.store.viewsInOrder(datasetId)) {
      for (const v of batch) {
        t ??= v.spec.time;
        if (v.spec.time === t) shown.push(v);
      }
      if (t !== undefined && (batch.at(-1)?.spec.time ?? -1) > t) break;
    }
    return { t, shown };
  }

  /** The views of one timepoint (the first with any view, unless given) on a contact sheet. */
  async sheet(
    datasetId: string,
    time: number | undefined,
    axis: ProjectionAxis,
    gone?: AbortSignal,
  ): Promise<PngAnswer> {
    const dataset = await this.dataset(datasetId);
    const { t, shown } = await asHttp(() => this.timepointViews(datasetId, time));
    if (t === undefined || shown.length === 0)
      throw ApiError.notFound(
        time === undefined
          ? `dataset ${datasetId} has no views yet`
          : `dataset ${datasetId} has no view at timepoint ${t}`,
        time === undefined ? 'id' : 'query.time',
      );
    // A grid too large to draw is refused before any view is read for it.
    const tooLarge = sheetProblem(shown.map((v) => v.spec));
    if (tooLarge) throw ApiError.refuse(422, tooLarge, 'id');
    const query = { axis, size: SHEET_MAX_CELL };
    const projections = new Map<string, ViewProjection>();
    const toRead: ViewEntry[] = [];
    // never more than the queue holds (PREVIEW_QUEUE_VIEWS may be set below 16)
    const sheetReads = Math.min(SHEET_READS_PER_REQUEST, this.reads.limits.maxViews);
    for (const view of shown) {
      if (view.state !== 'done' || !view.result) continue;
      const cached = this.cache.get(cacheKey(datasetId, view, query));
      if (cached) projections.set(view.viewKey, cached);
      else if (toRead.length < sheetReads) toRead.push(view);
    }
    // Views of one file are read in one go (one wait for a single .h5's writer, not one per view).
    const byFile = new Map<string, ViewEntry[]>();
    for (const view of toRead) {
      const file = sourceOf(dataset, view).h5Path;
      byFile.set(file, [...(byFile.get(file) ?? []), view]);
    }
    // All files queued at once: the sheet waits for one turn, not one per file.
    await Promise.all(
      [...byFile.values()].map(async (group) => {
        try {
          const read = await this.readGroup(dataset, group, query, SHEET_WAIT_MS, gone);
          group.forEach((view, i) => projections.set(view.viewKey, read[i]!));
        } catch {
          // busy (queue or writer) or unreadable: gray for now, and the sheet is not final
        }
      }),
    );
    const cells: SheetCell[] = shown.map((view) => ({
      ...view.spec,
      projection: projections.get(view.viewKey),
    }));
    if (gone?.aborted) throw clientLeft();
    const pending = shown.filter((v) => v.state === 'done' && !projections.has(v.viewKey)).length;
    let sheet;
    try {
      sheet = contactSheetPng(cells, { title: `t${t}` });
    } catch (error) {
      if (error instanceof RangeError) throw ApiError.refuse(422, error.message, 'id');
      throw error;
    }
    const final = pending === 0 && shown.every((v) => v.state === 'done' || v.state === 'failed');
    return {
      png: sheet.png,
      etag: final
        ? etagOf(['sheet', t, axis, ...shown.map((v) => `${v.viewKey}:${v.state}:${signatureOf(v)}`)])
        : undefined,
      pending,
    };
  }

  private async dataset(id: string): Promise<DatasetRecord> {
    const dataset = await asHttp(() => this.store.getDataset(id));
    if (!dataset) throw ApiError.notFound(`dataset ${id} does not exist`, 'id');
    return dataset;
  }

  /**
   * Reads several views of one file after the reads already asked for, and caches them. Views
   * read meanwhile (another sheet, a single preview) are taken from the cache when its turn comes.
   */
  private readGroup(
    dataset: DatasetRecord,
    views: readonly ViewEntry[],
    query: PreviewQuery,
    waitMs: number,
    gone?: AbortSignal,
  ): Promise<ViewProjection[]> {
    return this.enqueue(
      views.length,
      async (signal) => {
        const keys = views.map((v) => cacheKey(dataset.id, v, query));
        const known = keys.map((key) => this.cache.get(key));
        const toRead = views.filter((_, i) => !known[i]);
        const read =
          toRead.length === 0
            ? []
            : await this.thread.project(
                toRead.map((v) => sourceOf(dataset, v)),
                { axis: query.axis, maxSize: query.size, waitMs },
                signal,
              );
        toRead.forEach((v, i) => this.cache.set(keys[views.indexOf(v)]!, read[i]!));
        return views.map((v, i) => known[i] ?? read[toRead.indexOf(v)]!);
      },
      gone,
    );
  }

  /**
   * A cached projection, or one read now — after the reads already asked for (one at a time).
   * Callers asking for the same projection meanwhile share one read; it is dropped from the queue
   * only once every one of them is `gone`.
   */
  private projection(
    dataset: DatasetRecord,
    view: ViewEntry,
    query: PreviewQuery,
    waitMs: number,
    gone?: AbortSignal,
  ): Promise<ViewProjection> {
    const key = cacheKey(dataset.id, view, query);
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    let shared = this.inFlight.get(key);
    if (!shared) {
      const everyoneGone = new AbortController();
      let started = false;
      const read = this.enqueue(
        1,
        async (signal) => {
          started = true;
          // read meanwhile by a sheet? then no second read
          return (
            this.cache.get(key) ??
            (
              await this.thread.project(
                [sourceOf(dataset, view)],
                { axis: query.axis, maxSize: query.size, waitMs },
                signal,
              )
            )[0]!
          );
        },
        everyoneGone.signal,
      )
        .then((projection) => {
          this.cache.set(key, projection);
          return projection;
        })
        .finally(() => forget());
      const entry: SharedRead = { read, waiting: 0, everyoneGone };
      const forget = () => this.inFlight.get(key) === entry && this.inFlight.delete(key);
      // Given up before its turn: a caller arriving now starts a read of its own. One already
      // running goes on (for the cache), and a caller arriving now shares it.
      everyoneGone.signal.addEventListener('abort', () => started || forget(), { once: true });
      this.inFlight.set(key, entry);
      shared = entry;
    }
    waitFor(shared, gone);
    return shared.read;
  }

  /**
   * A read of `views` views after those already asked for (see PreviewReadQueue): 503 at once when
   * the queue is full, and 503 when its turn did not come within the queue's wait.
   */
  private enqueue<T>(
    views: number,
    read: (signal: AbortSignal) => Promise<T>,
    gone?: AbortSignal,
  ): Promise<T> {
    const { maxViews, waitMs } = this.reads.limits;
    const queued = this.reads.add(views, read, gone);
    if (!queued)
      throw ApiError.unavailable(
        `previews are busy: ${maxViews} views are queued or being read; try again shortly`,
      );
    return queued.catch((error: unknown) => {
      if (error instanceof ReadWaitExpired)
        throw ApiError.unavailable(
          `previews are busy: this one waited ${waitMs / 1000} s for its turn; try again shortly`,
        );
      // nobody is there to answer: whatever status, it is never sent
      if (error instanceof ReadCancelled) throw clientLeft();
      if (error instanceof ReadOverrun)
        throw ApiError.unavailable(`the preview read takes too long (${error.message}); try again later`);
      // a crashed thread (logged): the next read starts a fresh one
      if (error instanceof ProjectionThreadStopped)
        throw ApiError.unavailable(
          'previews could not be read (the preview reader stopped); try again shortly',
        );
      if (error instanceof ProjectionThreadStuck) {
        this.logger.error(`previews refused: ${error.message} (a hung output volume?)`);
        throw ApiError.unavailable(
          'previews are unavailable: an earlier read is stuck on the output volume; try again later',
        );
      }
      throw error;
    });
  }
}

/** The answer to a client that closed its connection: never sent, but every path ends in one. */
function clientLeft(): ApiError {
  return ApiError.unavailable('the preview was cancelled: its client left');
}

/** One projection being read for everyone who asked for it meanwhile. */
interface SharedRead {
  read: Promise<ViewProjection>;
  /** Callers that can go away and have not; one that cannot (no signal) keeps the read for good. */
  waiting: number;
  /** Aborted when the last caller that could go away went: drops the read if it has not started. */
  everyoneGone: AbortController;
}

/** Counts one more caller of `shared`; when every caller is `gone`, the read is given up. */
function waitFor(shared: SharedRead, gone: AbortSignal | undefined): void {
  if (!gone) {
    shared.waiting = Number.POSITIVE_INFINITY;
    return;
  }
  if (gone.aborted) {
    if (shared.waiting === 0) shared.everyoneGone.abort();
    return;
  }
  shared.waiting++;
  gone.addEventListener(
    'abort',
    () => {
      if (--shared.waiting === 0) shared.everyoneGone.abort();
    },
    { once: true },
  );
}

/** Where a done view's data is: its partition (whole, never appended) or the dataset's .h5. */
function sourceOf(dataset: DatasetRecord, view: ViewEntry): PreviewSource {
  const { time } = view.spec;
  const partition = view.result?.partition;
  if (partition) {
    const folder = dirname(dataset.files.h5);
    const h5Path = join(folder, partition);
    const inside = relative(folder, h5Path);
    if (inside.startsWith('..') || isAbsolute(inside))
      throw ApiError.conflict(`view ${view.viewKey}: bad partition`, 'viewKey');
    return { h5Path, time, setupId: view.setupId, appendable: false };
  }
  return { h5Path: dataset.files.h5, time, setupId: view.setupId, appendable: true };
}

/** What was written, as its writer recorded it: changes whenever the view is written again. */
function signatureOf(view: ViewEntry): string {
  return view.result?.checksums.map((c) => `${c.level}.${c.crc32}`).join('-') ?? '';
}

/**
 * What a projection depends on: the view's written content, the axis, and the level and shrink
 * the size picks (from the level shapes its writer recorded) — so sizes that give the same image
 * share one read and one cache entry. Without recorded shapes, the size itself.
 */
function cacheKey(datasetId: string, view: ViewEntry, query: PreviewQuery): string {
  const shapes = view.result?.checksums.map((c) => c.shapeZyx) ?? [];
  let scale = `size ${query.size}`;
  if (shapes.length > 0) {
    const { level, shrink } = chooseLevel(shapes, query.axis, query.size);
    scale = `level ${level} shrink ${shrink}`;
  }
  return [datasetId, view.viewKey, signatureOf(view), query.axis, scale].join('|');
}

function etagOf(parts: readonly unknown[]): string {
  return `"${createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 27)}"`;
}

/** A busy file is 503 (try again); a view that cannot be read says why, without server paths. */
function previewError(error: unknown, viewKey: string): unknown {
  if (!(error instanceof BdvError)) return error;
  if (error.code === 'FILE_LOCKED')
    return ApiError.unavailable(`view ${viewKey}: its file is being written; try again shortly`);
  if (error.code === 'OUT_OF_RANGE')
    return ApiError.badRequest(error.message, [{ field: 'query.size', message: error.message }]);
  return ApiError.conflict(
    `view ${viewKey} cannot be read: ${error.code === 'STATE' ? 'its file or data is missing' : 'the file could not be read'}`,
    'viewKey',
  );
}

/** `axis` and `size` from a query string, each bounded and named when wrong. */
export function previewQueryOf(
  query: Record<string, unknown>,
  allowed: readonly string[],
): Partial<PreviewQuery> & { time?: number } {
  refuseUnknownParams(query, allowed, { cacheBuster: true }); // GET routes
  const out: Partial<PreviewQuery> & { time?: number } = {};
  const axis = query.axis;
  if (axis !== undefined) {
    if (typeof axis !== 'string' || !(PROJECTION_AXES as readonly string[]).includes(axis))
      throw queryError('query.axis', `must be one of ${PROJECTION_AXES.join(', ')}`);
    out.axis = axis as ProjectionAxis;
  }
  if (query.size !== undefined) out.size = boundedInteger('query.size', query.size, 16, MAX_PREVIEW_SIZE);
  if (query.time !== undefined) out.time = boundedInteger('query.time', query.time, 0, 99_999);
  return out;
}

export const PREVIEW_DEFAULTS: PreviewQuery = { axis: 'z', size: DEFAULT_PREVIEW_SIZE };
