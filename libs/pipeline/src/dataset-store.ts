import { randomUUID } from 'node:crypto';
import { setupIdOf } from '@bdv-cluster/bdv';
import {
  autoPyramidFields,
  parseViewKey,
  viewKeyOf,
  type DatasetSpec,
  type ViewSpec,
} from '@bdv-cluster/contract';
import { writeJobId } from './queues.js';
import type { Redis } from 'ioredis';
import type { ViewStatePort } from './ports.js';
import { RedisKeys } from './redis-keys.js';
import * as scripts from './state-scripts.js';
import { ViewKeyOrder } from './view-order.js';
import {
  VIEW_STATES,
  type DatasetFiles,
  type DatasetRecord,
  type DatasetStatus,
  type FinalizeOptions,
  type FinalizeStanding,
  type PyramidChoice,
  type ViewEntry,
  type ViewResult,
  type ViewState,
  type ViewCounts,
  type ViewSubmission,
  type AddViewOutcome,
  type CancelOutcome,
  type FinalizeRefusal,
  type LiveViewTimes,
  type RetryOutcome,
} from './state-model.js';

/** One page of a dataset's views: its views a batch at a time, and where the next page starts. */
export interface ViewPage {
  views: AsyncGenerator<ViewEntry[]>;
  /** The key to ask the next page `after`; absent on the last page. */
  next?: string;
}

type ScriptRunner = (keys: string[], args: (string | number)[]) => Promise<unknown>;

/**
 * Dataset and view state in Redis (the ViewStatePort of the use cases). Every transition that must be atomic is one Lua script
 * (see state-scripts.ts); reads are plain hash reads.
 */
export class DatasetStore implements ViewStatePort {
  readonly keys: RedisKeys;
  private readonly run: Record<keyof typeof scripts, ScriptRunner>;

  constructor(
    readonly redis: Redis,
    prefix = 'bdv',
  ) {
    this.keys = new RedisKeys(prefix);
    // Defined commands run by EVALSHA (EVAL once per connection, on NOSCRIPT): sending each
    // script's text with every call cost 2.5 s of the API's CPU for 7,200 views (~5 KB each).
    const commands = redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>;
    this.run = Object.fromEntries(
      Object.entries(scripts).map(([name, lua]) => {
        const command = `bdvState${name}`;
        if (typeof commands[command] !== 'function') redis.defineCommand(command, { lua });
        return [
          name,
          (keys: string[], args: (string | number)[]) => commands[command]!(keys.length, ...keys, ...args),
        ];
      }),
    ) as Record<keyof typeof scripts, ScriptRunner>;
  }

  /**
   * Registers a dataset; undefined when the name is taken (names are output file names). Names are
   * claimed case-insensitively — on a case-insensitive volume `Run1` and `run1` would be one file —
   * while the record keeps the name as given.
   */
  async createDataset(
    spec: DatasetSpec,
    files: DatasetFiles,
    batchId?: string,
  ): Promise<DatasetRecord | undefined> {
    const id = randomUUID();
    // A name registered before names were claimed in lower case sits under its exact spelling.
    if (spec.name !== nameKey(spec.name) && (await this.redis.hexists(this.keys.names(), spec.name)))
      return undefined;
    if (!(await this.redis.hsetnx(this.keys.names(), nameKey(spec.name), id))) return undefined;
    const now = new Date().toISOString();
    // The secret is kept apart (never in the spec that GET shows); the spec keeps the URL.
    const { notify, ...rest } = spec;
    const stored: DatasetSpec = { ...rest, ...(notify ? { notify: { url: notify.url } } : {}) };
    const auto = autoPyramidFields(spec);
    const tx = this.redis
      .multi()
      .hset(this.keys.dataset(id), {
        id,
        name: spec.name,
        status: 'open',
        spec: JSON.stringify(stored),
        files: JSON.stringify(files),
        finalizeRequested: '0',
        generation: '0',
        createdAt: now,
        updatedAt: now,
        ...(batchId ? { batchId } : {}),
        ...(notify ? { notifySigned: notify.secret ? '1' : '0' } : {}),
        ...(auto.length > 0
          ? { pyramidPending: '1', pyramid: JSON.stringify({ auto } as PyramidChoice) }
          : {}),
      })
      .hset(this.keys.counts(id), { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 })
      .zadd(this.keys.index(), Date.now(), id);
    if (notify?.secret) tx.set(this.keys.notifySecret(id), notify.secret);
    await tx.exec();
    return (await this.getDataset(id))!;
  }

  /** The dataset registered under `name` in any letter case. */
  async idByName(name: string): Promise<string | undefined> {
    return (
      (await this.redis.hget(this.keys.names(), nameKey(name))) ??
      (await this.redis.hget(this.keys.names(), name)) ??
      undefined
    );
  }

  async getDataset(id: string): Promise<DatasetRecord | undefined> {
    const [[, hash], [, counts], [, errors], [, waiting]] = (await this.redis
      .multi()
      .hgetall(this.keys.dataset(id))
      .hgetall(this.keys.counts(id))
      .lrange(this.keys.errors(id), 0, 99)
      .hgetall(this.keys.viewWaiting(id))
      .exec()) as [
      [null, Record<string, string>],
      [null, Record<string, string>],
      [null, string[]],
      [null, Record<string, string>],
    ];
    if (!hash.id) return undefined;
    return {
      id: hash.id,
      name: hash.name!,
      status: hash.status as DatasetStatus,
      spec: JSON.parse(hash.spec!) as DatasetSpec,
      views: viewCounts(counts),
      files: JSON.parse(hash.files!) as DatasetFiles,
      errors,
      waiting,
      finalizeRequested: hash.finalizeRequested === '1',
      finalizeOptions: hash.finalizeOptions
        ? (JSON.parse(hash.finalizeOptions) as FinalizeOptions)
        : undefined,
      generation: Number(hash.generation ?? 0),
      batchId: hash.batchId,
      ...(hash.notifySigned !== undefined
        ? {
            notify: {
              url: (JSON.parse(hash.spec!) as DatasetSpec).notify?.url ?? '',
              signed: hash.notifySigned === '1',
              ...(hash.notifyDelivery ? { lastDelivery: hash.notifyDelivery } : {}),
            },
          }
        : {}),
      ...(hash.pyramid ? { pyramid: JSON.parse(hash.pyramid) as PyramidChoice } : {}),
      createdAt: hash.createdAt!,
      updatedAt: hash.updatedAt!,
    };
  }

  /** Newest first. */
  async listDatasets(offset = 0, limit = 100): Promise<DatasetRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.index(), offset, offset + limit - 1);
    const all = await Promise.all(ids.map((id) => this.getDataset(id)));
    return all.filter((d): d is DatasetRecord => d !== undefined);
  }

  /**
   * Records a view as queued (key, setup id and job id derived here, once for every caller);
   * refused when it exists and has not failed, or when the dataset is being finalized.
   */
  async addView(dataset: DatasetRecord, spec: ViewSpec, reopen = false): Promise<AddViewOutcome> {
    const viewKey = viewKeyOf(spec);
    const jobId = writeJobId(dataset.id, viewKey);
    const submission: ViewSubmission = {
      spec,
      setupId: setupIdOf(dataset.spec.setup, spec),
      jobId,
      submittedAt: new Date().toISOString(),
    };
    const [outcome, state] = (await this.run.ADD_VIEW(this.keys.transition(dataset.id), [
      viewKey,
      JSON.stringify(submission),
      submission.submittedAt,
      reopen ? '1' : '0',
    ])) as [string, string];
    return outcome === 'OK'
      ? { ok: true, reopened: state === 'failed', viewKey, jobId }
      : { ok: false, reason: outcome as 'DUPLICATE', state, viewKey, jobId };
  }

  /** DELETE, step 1 (see CANCEL_DATASET): `cancelling`, queued views cancelled. */
  async cancelDataset(datasetId: string, purge: boolean): Promise<CancelOutcome> {
    const [outcome, before, generation, ...queued] = (await this.run.CANCEL_DATASET(
      this.keys.transition(datasetId),
      [new Date().toISOString(), purge ? '1' : '0'],
    )) as string[];
    return outcome === 'OK'
      ? { ok: true, before: before as DatasetStatus, generation: Number(generation), cancelledQueued: queued }
      : { ok: false, reason: outcome as 'COMPLETE' };
  }

  /** A running view of a cancelling dataset stopped (or its job is gone): `cancelled`. */
  async cancelView(datasetId: string, viewKey: string): Promise<boolean> {
    return (await this.run.CANCEL_VIEW(this.keys.transition(datasetId), [viewKey])) === 1;
  }

  /** DELETE, last step: `cancelled` and the name freed, if no view runs any more. */
  async finishCancel(datasetId: string, name: string): Promise<boolean> {
    return (
      (await this.run.FINISH_CANCEL(this.keys.transition(datasetId), [
        new Date().toISOString(),
        nameKey(name),
      ])) === 1
    );
  }

  /** A failed view back to queued (see RETRY_VIEW). */
  async retryView(datasetId: string, viewKey: string): Promise<RetryOutcome> {
    const [outcome, state] = (await this.run.RETRY_VIEW(this.keys.transition(datasetId), [
      viewKey,
      new Date().toISOString(),
    ])) as [string, string];
    return outcome === 'OK'
      ? { ok: true, before: state as DatasetStatus }
      : { ok: false, reason: outcome as 'NO_VIEW', state };
  }

  /** Records the pyramid chosen for an "auto" dataset; false if another writer chose first. */
  async choosePyramid(datasetId: string, spec: DatasetSpec, choice: PyramidChoice): Promise<boolean> {
    return (
      (await this.run.CHOOSE_PYRAMID(this.keys.transition(datasetId), [
        JSON.stringify(spec),
        JSON.stringify(choice),
        new Date().toISOString(),
      ])) === 1
    );
  }

  /** Just the dataset's status (what a writer polls to learn its dataset is being cancelled). */
  async statusOf(datasetId: string): Promise<DatasetStatus | undefined> {
    return ((await this.redis.hget(this.keys.dataset(datasetId), 'status')) ?? undefined) as
      DatasetStatus | undefined;
  }

  /**
   * The highest time of the dataset's views that may still be written (neither failed nor
   * cancelled: those are missing from its XML), or undefined when there is none, and how many
   * views had been added or retried when it was read. One pass over the view states, a batch
   * per round trip.
   */
  async latestLiveViewTime(datasetId: string): Promise<LiveViewTimes> {
    // Counted before the scan: a view added or retried during it changes the count, and a
    // finalize given this count (requestFinalize) is then refused instead of trusting the scan.
    const admitted = Number((await this.redis.hget(this.keys.dataset(datasetId), 'admitted')) ?? 0);
    let latest: number | undefined;
    await this.scanViewStates(datasetId, (key, state) => {
      if (state === 'failed' || state === 'cancelled') return;
      const time = parseViewKey(key)?.time;
      if (time !== undefined && (latest === undefined || time > latest)) latest = time;
    });
    return { latest, admitted };
  }

  /**
   * The keys of the views in `state` (e.g. the running ones a cancel waits for, the failed ones a
   * client lists). Scanned 1,000 at a time: only the matching keys are kept, not every view's.
   */
  async viewKeysIn(datasetId: string, state: ViewState): Promise<string[]> {
    const found = new Set<string>(); // HSCAN may return a field twice
    await this.scanViewStates(datasetId, (key, s) => {
      if (s === state) found.add(key);
    });
    return [...found];
  }

  /** Every view's key and state, VIEW_BATCH a round trip (a key may come twice: HSCAN). */
  private async scanViewStates(datasetId: string, each: (key: string, state: string) => void): Promise<void> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(
        this.keys.viewStates(datasetId),
        cursor,
        'COUNT',
        VIEW_BATCH,
      );
      for (let i = 0; i < flat.length; i += 2) each(flat[i]!, flat[i + 1]!);
      cursor = next;
    } while (cursor !== '0');
  }

  /** The secret that signs a dataset's notifications, if it has one (the notifier only). */
  async notifySecret(datasetId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.notifySecret(datasetId))) ?? undefined;
  }

  /** Notes how the last notification went (shown under `notify.lastDelivery`). */
  async noteDelivery(datasetId: string, outcome: string): Promise<void> {
    if (await this.redis.exists(this.keys.dataset(datasetId)))
      await this.redis.hset(this.keys.dataset(datasetId), 'notifyDelivery', outcome);
  }

  /** queued -> running; 'DONE' / 'FAILED' / 'CANCELLED' tell a duplicate, stale or cancelled job to stop. */
  async startView(
    datasetId: string,
    viewKey: string,
  ): Promise<'OK' | 'DONE' | 'FAILED' | 'CANCELLED' | 'NO_VIEW'> {
    return (await this.run.START_VIEW(this.keys.transition(datasetId), [
      viewKey,
      new Date().toISOString(),
    ])) as 'OK';
  }

  /**
   * Marks the view done (and counts it and its bytes in the cluster's stats, in the same step:
   * a view already settled counts nothing); returns the finalize generation to queue, if this
   * completed the dataset.
   */
  async completeView(datasetId: string, viewKey: string, result: ViewResult): Promise<number | undefined> {
    const g = Number(
      await this.run.COMPLETE_VIEW(this.keys.transition(datasetId), [
        viewKey,
        new Date().toISOString(),
        JSON.stringify(result),
        finite(result.bytes),
        finite(result.seconds),
      ]),
    );
    return g > 0 ? g : undefined;
  }

  /** Marks the view failed (counted once, in the same step); a settled view stays as it is. */
  async failView(datasetId: string, viewKey: string, reason: string): Promise<number | undefined> {
    const g = Number(
      await this.run.FAIL_VIEW(this.keys.transition(datasetId), [viewKey, new Date().toISOString(), reason]),
    );
    return g > 0 ? g : undefined;
  }

  /**
   * The finalize generation to queue, undefined (later), or why it was refused: 'CANCELLED',
   * 'NO_VIEWS', or 'CHANGED' (`admittedSeen` given, and views were added or retried since).
   */
  async requestFinalize(
    datasetId: string,
    options: FinalizeOptions,
    admittedSeen?: number,
  ): Promise<number | FinalizeRefusal | undefined> {
    const g = Number(
      await this.run.REQUEST_FINALIZE(this.keys.transition(datasetId), [
        new Date().toISOString(),
        JSON.stringify(options),
        admittedSeen === undefined ? '' : String(admittedSeen),
      ]),
    );
    const refusal = FINALIZE_REFUSALS.get(g);
    if (refusal) return refusal;
    return g > 0 ? g : undefined;
  }

  async completeFinalize(datasetId: string, generation: number, files: DatasetFiles): Promise<boolean> {
    return (
      (await this.run.COMPLETE_FINALIZE(this.keys.transition(datasetId), [
        String(generation),
        new Date().toISOString(),
        JSON.stringify(files),
      ])) === 1
    );
  }

  /**
   * Written views that did not read back at finalize become `failed` (each with what was found),
   * and the finalize `failed` with `reason`, in one step (FAIL_UNVERIFIED_VIEWS); false when the
   * generation is no longer the current finalize.
   */
  async failUnverifiedViews(
    datasetId: string,
    generation: number,
    reason: string,
    views: readonly { viewKey: string; reason: string }[],
  ): Promise<boolean> {
    return (
      (await this.run.FAIL_UNVERIFIED_VIEWS(this.keys.transition(datasetId), [
        String(generation),
        new Date().toISOString(),
        reason,
        ...views.flatMap((v) => [v.viewKey, v.reason]),
      ])) === 1
    );
  }

  /** Where finalize `generation` stands now (status and generation read in one step). */
  async finalizeStanding(datasetId: string, generation: number): Promise<FinalizeStanding> {
    const [status, current] = await this.redis.hmget(this.keys.dataset(datasetId), 'status', 'generation');
    if (status === null) return 'gone';
    if (status === 'cancelling' || status === 'cancelled') return 'cancelled';
    return status === 'finalizing' && current === String(generation) ? 'current' : 'superseded';
  }

  async failFinalize(datasetId: string, generation: number, reason: string): Promise<boolean> {
    return (
      (await this.run.FAIL_FINALIZE(this.keys.transition(datasetId), [
        String(generation),
        new Date().toISOString(),
        reason,
      ])) === 1
    );
  }

  /**
   * Notes that a view waits for an outage to end (`reason`), or no longer does. The transitions
   * that settle or re-add a view clear it too.
   */
  async noteWaiting(datasetId: string, viewKey: string, reason?: string): Promise<void> {
    if (reason) await this.redis.hset(this.keys.viewWaiting(datasetId), viewKey, reason);
    else await this.redis.hdel(this.keys.viewWaiting(datasetId), viewKey);
  }

  async getView(datasetId: string, viewKey: string): Promise<ViewEntry | undefined> {
    const [[, state], [, spec], [, result], [, error]] = (await this.redis
      .multi()
      .hget(this.keys.viewStates(datasetId), viewKey)
      .hget(this.keys.viewSpecs(datasetId), viewKey)
      .hget(this.keys.viewResults(datasetId), viewKey)
      .hget(this.keys.viewErrors(datasetId), viewKey)
      .exec()) as unknown as [
      [null, string | null],
      [null, string | null],
      [null, string | null],
      [null, string | null],
    ];
    if (!state || !spec) return undefined;
    return toEntry(viewKey, state, spec, result ?? undefined, error ?? undefined);
  }

  /**
   * Every view of the dataset, in (time, setup) order — read a batch at a time (viewsInOrder): four
   * HGETALLs of a 200,000-view dataset peaked at 739 MiB in the reader for 261 MiB of views kept.
   * Not one snapshot, so for datasets whose views have settled: the finalizer's (no view moves
   * while a dataset is finalizing).
   */
  async listViews(datasetId: string): Promise<ViewEntry[]> {
    const views: ViewEntry[] = [];
    for await (const batch of this.viewsInOrder(datasetId)) for (const v of batch) views.push(v);
    return views;
  }

  /**
   * The source URI each of `viewKeys` was submitted with (absent: no such view), read 1,000 specs
   * at a time: a batch re-run checks that the views it skips came from the objects it maps to them.
   */
  async viewSources(datasetId: string, viewKeys: readonly string[]): Promise<Map<string, string>> {
    const sources = new Map<string, string>();
    for (let at = 0; at < viewKeys.length; at += VIEW_BATCH) {
      const keys = viewKeys.slice(at, at + VIEW_BATCH);
      const specs = keys.length ? await this.redis.hmget(this.keys.viewSpecs(datasetId), ...keys) : [];
      specs.forEach((spec, i) => {
        const uri = spec ? (JSON.parse(spec) as ViewSubmission).spec.source.uri : undefined;
        if (typeof uri === 'string') sources.set(keys[i]!, uri);
      });
    }
    return sources;
  }

  /** Each view's state by view key (what a batch re-run needs to know of the views there are). */
  async viewStates(datasetId: string): Promise<Record<string, ViewState>> {
    return (await this.redis.hgetall(this.keys.viewStates(datasetId))) as Record<string, ViewState>;
  }

  /**
   * The dataset's views in (time, setup) order, `size` at a time: the caller holds one batch and
   * the view order (ViewKeyOrder: 8 B a view), not every view (a million views read at once were ~2.4 GB
   * in the API, from 200,000 measured). Each batch is read at one moment; a view added or removed
   * during the walk may be missed or skipped. With `state`, only the views in that state: those
   * the scan of states found in it (one changing state during the scan may or may not be), less
   * any that left it before their batch was read.
   */
  async *viewsInOrder(
    datasetId: string,
    { size = VIEW_BATCH, state }: { size?: number; state?: ViewState } = {},
  ): AsyncGenerator<ViewEntry[]> {
    yield* (await this.viewPage(datasetId, { size, state })).views;
  }

  /**
   * A page of viewsInOrder: the views after the key `after` (any view key: the view need not
   * exist), at most `limit` of them. The page is a window of view keys, fixed when it is asked
   * for; `next` (the window's last key) is there when keys remain beyond it. A view that leaves
   * `state` before its batch is read leaves its page one view short, but the next page still
   * starts after the window, so paging never skips a view that stayed put and never repeats one.
   */
  async viewPage(
    datasetId: string,
    {
      size = VIEW_BATCH,
      state,
      after,
      limit = Infinity,
      order,
    }: {
      size?: number;
      state?: ViewState;
      after?: string;
      limit?: number;
      /** The keys' order, if the caller kept it from viewOrder (else read now). */
      order?: ViewKeyOrder;
    } = {},
  ): Promise<ViewPage> {
    order ??= await this.viewOrder(datasetId, state);
    const start = after === undefined ? 0 : order.indexAfter(after);
    const end = Math.min(order.length, start + limit);
    return {
      views: this.readViews(datasetId, order, start, end, size, state),
      ...(end < order.length ? { next: order.at(end - 1) } : {}),
    };
  }

  /** The dataset's view keys (those in `state`, if given) in listing order: 8 B a view. */
  async viewOrder(datasetId: string, state?: ViewState): Promise<ViewKeyOrder> {
    return ViewKeyOrder.of(
      state
        ? await this.viewKeysIn(datasetId, state)
        : await this.redis.hkeys(this.keys.viewStates(datasetId)),
    );
  }

  /** The views `start` to `end` of `order`, `size` per round trip (those still in `state`, if given). */
  private async *readViews(
    datasetId: string,
    order: ViewKeyOrder,
    start: number,
    end: number,
    size: number,
    state: ViewState | undefined,
  ): AsyncGenerator<ViewEntry[]> {
    for (let i = start; i < end; i += size) {
      const batch = order.slice(i, Math.min(end, i + size));
      const [[, states], [, specs], [, results], [, errors]] = (await this.redis
        .multi()
        .hmget(this.keys.viewStates(datasetId), ...batch)
        .hmget(this.keys.viewSpecs(datasetId), ...batch)
        .hmget(this.keys.viewResults(datasetId), ...batch)
        .hmget(this.keys.viewErrors(datasetId), ...batch)
        .exec()) as unknown as [
        [null, (string | null)[]],
        [null, (string | null)[]],
        [null, (string | null)[]],
        [null, (string | null)[]],
      ];
      const entries: ViewEntry[] = [];
      batch.forEach((k, j) => {
        const [now, spec] = [states[j], specs[j]];
        if (now && spec && (!state || now === state))
          entries.push(toEntry(k, now, spec, results[j] ?? undefined, errors[j] ?? undefined));
      });
      yield entries;
    }
  }

  async saveBatch(batchId: string, batch: object): Promise<void> {
    await this.redis.set(this.keys.batch(batchId), JSON.stringify(batch));
  }

  async getBatch<T>(batchId: string): Promise<T | undefined> {
    const raw = await this.redis.get(this.keys.batch(batchId));
    return raw ? (JSON.parse(raw) as T) : undefined;
  }

  async stats(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys.stats());
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }
}

/** The key a name is claimed under: its lower-case form. */
function nameKey(name: string): string {
  return name.toLowerCase();
}

/** A number as Redis's HINCRBYFLOAT takes it (a non-finite one would abort the transition). */
function finite(n: number): string {
  return Number.isFinite(n) ? String(n) : '0';
}

/** Views read per round trip by viewsInOrder. */
const VIEW_BATCH = 1000;

/** REQUEST_FINALIZE's refusals (state-scripts.ts). */
const FINALIZE_REFUSALS = new Map<number, FinalizeRefusal>([
  [-4, 'CANCELLED'],
  [-5, 'NO_VIEWS'],
  [-6, 'CHANGED'],
]);

function toEntry(viewKey: string, state: string, spec: string, result?: string, error?: string): ViewEntry {
  return {
    viewKey,
    state: state as ViewState,
    ...(JSON.parse(spec) as ViewSubmission),
    ...(result ? { result: JSON.parse(result) as ViewResult } : {}),
    ...(error ? { error } : {}),
  };
}

/** Per-state view counts; `cancelled` only once a view was cancelled (the v1 shape had four). */
function viewCounts(counts: Record<string, string>): ViewCounts {
  const views = Object.fromEntries(
    VIEW_STATES.map((s) => [s, Number(counts[s] ?? 0)]).filter(([s, n]) => s !== 'cancelled' || n !== 0),
  );
  return views as ViewCounts;
}
