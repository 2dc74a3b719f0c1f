import {
  BdvError,
  checksumPathFor,
  publishVerifiedDataset,
  writePartitionedMaster,
  type VerifyOptions,
  type VerifyReport,
  type ViewChecksums,
} from '@bdv-cluster/bdv';
import {
  datasetFormat,
  exportKeyOf,
  exportPrefixOf,
  spimDataFromState,
  type DatasetFiles,
  type DatasetRecord,
  type ViewEntry,
} from '@bdv-cluster/pipeline';
import { claimExportPrefix, createS3Client, uploadFile, type S3Settings } from '@bdv-cluster/storage';
import { basename, dirname, join } from 'node:path';
import pMap from 'p-map';
import { removeAbandonedScratch } from './abandoned-scratch.js';
import type { FinalizeGuard } from './finalize-guard.js';

/**
 * The partitioned master (if any), then the XML and the checksum file — published only once every
 * written view reads back as its writer recorded it. Throws FILE_LOCKED while a writer still holds
 * the single file (a paused one may); returns the verification report either way. `checkFiles`:
 * where partitions are read back (worker threads, several at once).
 */
export async function writeDatasetFiles(
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
  checkFiles?: VerifyOptions['checkFiles'],
): Promise<VerifyReport> {
  const done = views.filter((v) => v.state === 'done' && v.result);
  removeAbandonedScratch(dataset.files.h5);
  if (dataset.spec.layout === 'partitioned') {
    const partitions = done.flatMap((v) =>
      v.result!.partition ? [{ time: v.spec.time, setupId: v.setupId, file: v.result!.partition }] : [],
    );
    await writePartitionedMaster(dataset.files.h5, datasetFormat(dataset), partitions);
  }
  const checksums: ViewChecksums[] = done.map((v) => ({
    time: v.spec.time,
    setupId: v.setupId,
    file: v.result!.partition ?? basename(dataset.files.h5),
    levels: v.result!.checksums ?? [],
    record: v.result!.record,
  }));
  return publishVerifiedDataset(dataset.files.xml, spimDataFromState(dataset, views), checksums, {
    fenced: true,
    ...(checkFiles ? { checkFiles } : {}),
  });
}

export function isFileLocked(error: unknown): boolean {
  return error instanceof BdvError && error.code === 'FILE_LOCKED';
}

/** Files uploaded at once: two streams keep the object store busy while each waits on its disk. */
const EXPORT_CONCURRENCY = 2;

/** What an export uploads, in order: the .h5 (and partitions), the checksums, the XML last. */
export function exportFilesOf(
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
): { h5: string[]; sums: string; xml: string } {
  const partitions = views.flatMap((v) =>
    v.state === 'done' && v.result?.partition ? [join(dirname(dataset.files.h5), v.result.partition)] : [],
  );
  return {
    h5: [dataset.files.h5, ...partitions],
    sums: checksumPathFor(dataset.files.xml),
    xml: dataset.files.xml,
  };
}

/** How far an export got: `claimed` once the prefix is this dataset's (what may be taken back). */
export interface ExportProgress {
  claimed: boolean;
}

/**
 * Copies the .h5 (and partitions) and the checksums to `<bucket>/<name>/`, then the XML last: a
 * reader that finds the XML finds everything it names. The prefix is claimed for the dataset first
 * (`<name>/.bdv-export`, libs/storage's export-claim.ts). `guard` is asked before the claim and
 * before every upload (the finalize may have been cancelled meanwhile); `progress` says whether the
 * prefix was claimed.
 */
export async function exportDatasetFiles(
  s3: S3Settings,
  bucket: string,
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
  guard: FinalizeGuard,
  progress: ExportProgress,
): Promise<Partial<DatasetFiles>> {
  const client = createS3Client(s3);
  const key = (file: string) => exportKeyOf(dataset.name, file);
  const upload = async (file: string, type: string) => {
    await guard(`uploading ${basename(file)}`);
    await uploadFile(client, bucket, key(file), file, type);
  };
  try {
    await guard('claiming the export');
    // Never over somebody else's objects: a purged dataset's kept copy under the same name, or
    // files put there by hand. A dataset that exported here before claims existed may go on.
    await claimExportPrefix(client, bucket, exportPrefixOf(dataset.name), {
      owner: dataset.id,
      completeKey: key(dataset.files.xml),
      adoptUnclaimed: exportedBefore(bucket, dataset),
    });
    progress.claimed = true;
    const files = exportFilesOf(dataset, views);
    await eachUntilFailure(files.h5, (file) => upload(file, 'application/x-hdf5'));
    await upload(files.sums, 'application/json');
    await upload(files.xml, 'application/xml');
    return {
      h5Uri: `s3://${bucket}/${key(dataset.files.h5)}`,
      xmlUri: `s3://${bucket}/${key(dataset.files.xml)}`,
    };
  } finally {
    client.destroy();
  }
}

/** True when an earlier finalize of the dataset completed an export to `bucket` (its record says so). */
export function exportedBefore(bucket: string, dataset: DatasetRecord): boolean {
  return dataset.files.xmlUri === `s3://${bucket}/${exportKeyOf(dataset.name, dataset.files.xml)}`;
}

/**
 * `step` for every item, EXPORT_CONCURRENCY at a time, none started after one failed; throws that
 * first failure once every step under way has ended — an upload never lands after the export
 * stopped (and perhaps took back what it had put there).
 */
async function eachUntilFailure(items: readonly string[], step: (item: string) => Promise<void>) {
  const failure: { error?: unknown } = {};
  await pMap(
    items,
    async (item) => {
      if ('error' in failure) return;
      await step(item).catch((error: unknown) => {
        if (!('error' in failure)) failure.error = error;
      });
    },
    { concurrency: EXPORT_CONCURRENCY },
  );
  if ('error' in failure) throw failure.error;
}
