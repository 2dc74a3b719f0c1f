import { preferredSlabDepth, preloadHdf5, type BdvWriter, type SlabStack } from '@bdv-cluster/bdv';
import { commitViewTask, stoppableStack, ViewThreadPool, type ViewTask } from '@bdv-cluster/convert';
import { asSlabStack, openStackFile } from '@bdv-cluster/stacks';
import type { ProgressReporter } from '../progress/progress-reporter.js';
import { throwIfInterrupted } from './interruption.js';
import type { PlannedView } from './planned-view.js';

/** The same stack, stopped between slabs (and after the last) by Ctrl-C and friends (`signal`). */
export function interruptible(stack: SlabStack, signal: AbortSignal | undefined): SlabStack {
  return signal ? stoppableStack(stack, () => throwIfInterrupted(signal)) : stack;
}

/** One view after the other, in this thread, into the writer's open file; stops when `signal` aborts. */
export async function writeInProcess(
  writer: BdvWriter,
  planned: readonly PlannedView[],
  progress: ProgressReporter,
  signal?: AbortSignal,
): Promise<void> {
  for (const view of planned) {
    throwIfInterrupted(signal);
    const report = viewProgress(progress, view);
    const reader = await openStackFile(view.path, view.options);
    try {
      const stack = interruptible(
        asSlabStack(reader, preferredSlabDepth(reader.shapeZyx, writer.format)),
        signal,
      );
      await writer.appendView(stack, { ...view.spec, onProgress: report.bytes });
    } finally {
      await reader.close();
    }
    report.done();
  }
}

/**
 * Partitions written on `jobs` worker threads at once (gzip compresses on one core per file,
 * so this is how a local conversion uses several cores) — the same thread pool and view task
 * the cluster's writers use. Stops handing out views at the first failure; an interruption
 * (`signal`) ends the threads at once (their staged partitions are left for the caller to remove).
 * The caller owns `pool` (started early, see runConversion) and closes it.
 */
export async function writeOnThreads(
  pool: ViewThreadPool,
  writer: BdvWriter,
  planned: readonly PlannedView[],
  jobs: number,
  progress: ProgressReporter,
  signal?: AbortSignal,
): Promise<void> {
  const plans = planned.map((view) => writer.planPartition(view.shapeZyx, view.spec));
  const stopThreads = () => void pool.close();
  signal?.addEventListener('abort', stopThreads, { once: true });
  let next = 0;
  let failure: unknown;
  const runner = async () => {
    while (next < planned.length && failure === undefined && !signal?.aborted) {
      const i = next++;
      const view = planned[i]!;
      const report = viewProgress(progress, view);
      try {
        const task: ViewTask = {
          source: { kind: 'file', uri: view.path, path: view.path },
          read: view.options,
          view: view.spec,
          h5Path: writer.h5Path,
          layout: 'partitioned',
          format: writer.format,
        };
        const result = await pool.run(task, report.bytes);
        commitViewTask(task, result);
        writer.adoptPartition(plans[i]!, result.checksums);
      } catch (error) {
        failure ??= error;
        return;
      }
      report.done();
    }
    // The first thread out of views frees a core: this thread loads its HDF5 there, for the master
    // it writes once the last view is in (~0.1 s otherwise added after the last view).
    preloadHdf5().catch(() => undefined);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, planned.length) }, runner));
  } finally {
    signal?.removeEventListener('abort', stopThreads);
  }
  throwIfInterrupted(signal);
  if (failure !== undefined) throw failure;
}

/** Feeds one view's byte progress (reported as done/total by the writer) into the reporter. */
function viewProgress(progress: ProgressReporter, view: PlannedView) {
  const started = performance.now();
  let reported = 0;
  progress.viewStarted(view.key, view.path);
  return {
    bytes: (p: { bytesDone: number; bytesTotal: number }) => {
      const done = (p.bytesDone / p.bytesTotal) * view.bytes;
      progress.bytes(done - reported);
      reported = done;
    },
    done: () => progress.viewDone(view.key, view.bytes, (performance.now() - started) / 1000),
  };
}
