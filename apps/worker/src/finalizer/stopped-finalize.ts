import {
  exportKeyOf,
  exportPrefixOf,
  s3SettingsOf,
  type ClusterConfig,
  type DatasetRecord,
  type ViewEntry,
} from '@bdv-cluster/pipeline';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { exportedBefore, exportFilesOf, type ExportProgress } from './dataset-outputs.js';
import { undoExport } from '@bdv-cluster/storage';
import type { FinalizeStopped } from './finalize-guard.js';

/**
 * Ends a finalize that must not go on. Its dataset cancelled (DELETE) or gone from Redis (Redis
 * lost its data): nothing is marked, and what this finalize put in the output bucket is taken
 * back, so no export of it stays there as complete nor holds its name — a copy an earlier
 * finalize of the dataset exported is kept, as a cancel keeps exported copies. A dataset gone is
 * an error for the operator: its files stay on the volume, which only they can judge. Superseded,
 * or the job taken over by another finalizer: that one's work, nothing is touched.
 */
export async function endStoppedFinalize(
  config: ClusterConfig,
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
  stopped: FinalizeStopped,
  exported: ExportProgress,
  log: Logger,
): Promise<string> {
  const { reason } = stopped;
  if (reason === 'superseded' || reason === 'job lost') {
    log.warn({ reason: stopped.message }, 'finalize superseded: stopped, nothing touched');
    return `stopped (${reason})`;
  }
  const bucket = config.OUTPUT_BUCKET;
  const takeBack = bucket !== undefined && exported.claimed && !exportedBefore(bucket, dataset);
  if (bucket && takeBack) {
    const files = exportFilesOf(dataset, views);
    const keys = [files.xml, files.sums, ...files.h5].map((f) => exportKeyOf(dataset.name, f));
    await undoExport(s3SettingsOf(config), bucket, exportPrefixOf(dataset.name), keys).then(
      () => log.info({ bucket, prefix: exportPrefixOf(dataset.name) }, 'export taken back'),
      (error: unknown) =>
        log.error(
          { reason: (error as Error).message },
          `could not take the export back: objects left under s3://${bucket}/${exportPrefixOf(dataset.name)}`,
        ),
    );
  }
  if (reason === 'cancelled') {
    log.info({ reason: stopped.message }, 'dataset cancelled: finalize stopped, not complete');
    return 'stopped (cancelled)';
  }
  const folder = dirname(dataset.files.h5);
  log.error(
    { name: dataset.name, folder, reason: stopped.message },
    `dataset ${dataset.name} (${dataset.id}) is no longer in Redis (its state was lost): not exported, not marked complete; its files stay in ${folder}`,
  );
  return 'stopped (dataset gone)';
}
