import type { DatasetRecord, ViewEntry } from '@bdv-cluster/pipeline';

/** What the status page says of a dataset's progress. */
export interface DatasetProgress {
  total: number;
  done: number;
  failed: number;
  /** queued + running */
  remaining: number;
  bytesDone: number;
  /** Declared sizes when every view declared its shape; else done bytes per done view x views. */
  bytesTotal?: number;
  bytesTotalEstimated: boolean;
  /** Bytes written per second since the first view was submitted (waiting in the queue included). */
  bytesPerSecond?: number;
  /** Seconds until the views still queued or running are written, at the rate so far. */
  etaSeconds?: number;
}

/** What progress needs from a dataset's views, summed in one pass (cached per dataset state). */
export interface ViewsSummary {
  /** Views in any state, cancelled ones included. */
  count: number;
  bytesDone: number;
  /** Input bytes of all views, when every one declared its shape. */
  bytesDeclared?: number;
  /** When the first view was submitted (ms since the epoch). */
  firstSubmittedAt?: number;
}

export function summarizeViews(views: readonly ViewEntry[]): ViewsSummary {
  let bytesDone = 0;
  let bytesDeclared: number | undefined = 0;
  let first = Infinity;
  // A loop, not Math.min(...spread): a dataset may hold a million views, beyond any call's arguments.
  for (const v of views) {
    if (v.state === 'done') bytesDone += v.result?.bytes ?? 0;
    const declared = declaredBytes(v);
    bytesDeclared =
      declared === undefined || bytesDeclared === undefined ? undefined : bytesDeclared + declared;
    const submitted = Date.parse(v.submittedAt);
    if (submitted < first) first = submitted;
  }
  return {
    count: views.length,
    bytesDone,
    bytesDeclared,
    firstSubmittedAt: Number.isFinite(first) ? first : undefined,
  };
}

/** The summary of two disjoint sets of views, from theirs: summarizeViews of both sets at once. */
export function mergeSummaries(a: ViewsSummary, b: ViewsSummary): ViewsSummary {
  const firsts = [a.firstSubmittedAt, b.firstSubmittedAt].filter((t) => t !== undefined);
  return {
    count: a.count + b.count,
    bytesDone: a.bytesDone + b.bytesDone,
    bytesDeclared:
      a.bytesDeclared === undefined || b.bytesDeclared === undefined
        ? undefined
        : a.bytesDeclared + b.bytesDeclared,
    firstSubmittedAt: firsts.length ? Math.min(...firsts) : undefined,
  };
}

/**
 * Progress from the state alone (no extra bookkeeping in the writers): the rate is the bytes
 * written over the time since the first submission — up to now while views remain, up to the
 * last change once none do — and the ETA extends it to the views left.
 */
export function progressOf(dataset: DatasetRecord, views: ViewsSummary, now: number): DatasetProgress {
  const { queued, running, done, failed } = dataset.views;
  const total = queued + running + done + failed;
  const remaining = queued + running;
  const { bytesDone, bytesDeclared, firstSubmittedAt } = views;
  const allDeclared = views.count === total && total > 0 && bytesDeclared !== undefined;
  const bytesTotal = allDeclared
    ? bytesDeclared
    : done > 0
      ? Math.round((bytesDone / done) * (total - failed))
      : undefined;
  const until = remaining > 0 ? now : Date.parse(dataset.updatedAt);
  const seconds = firstSubmittedAt !== undefined ? (until - firstSubmittedAt) / 1000 : 0;
  const bytesPerSecond = seconds > 0 && bytesDone > 0 ? bytesDone / seconds : undefined;
  const etaSeconds = remaining > 0 && done > 0 && seconds > 0 ? (remaining * seconds) / done : undefined;
  return {
    total,
    done,
    failed,
    remaining,
    bytesDone,
    bytesTotal,
    bytesTotalEstimated: !allDeclared,
    bytesPerSecond,
    etaSeconds,
  };
}

/** Input bytes of a declared shape (what a writer reports as the view's bytes once written). */
function declaredBytes(view: ViewEntry): number | undefined {
  const shape = view.spec.source.shapeZyx;
  return shape ? shape[0] * shape[1] * shape[2] * (view.spec.source.dtype === 'uint8' ? 1 : 2) : undefined;
}

/** `3.2 GB`, `512 MB`, `12 kB` (decimal units, as MB/s). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `45 s`, `4 min`, `2 h 5 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  return `${h} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}
