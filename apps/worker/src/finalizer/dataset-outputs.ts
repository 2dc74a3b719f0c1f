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

/** One line per view (and dataset problem) that did not verify, for the dataset's errors. */
export function verificationProblems(report: VerifyReport): string[] {
  return [
    ...report.problems,
    ...report.views.flatMap((v) => v.problems.map((p) => `t${v.time} s${v.setupId} (${v.file}): ${p}`)),
  ];
}

export function isFileLocked(error: unknown): boolean {
  return error instanceof BdvError && error.code === 'FILE_LOCKED';
}

/** Files uploaded at once: two streams keep the object store busy while each waits on its disk. */
const EXPORT_CONCURRENCY = 2;

/**
 * Copies the .h5 (and partitions) and the checksums to `<bucket>/<name>/`, then the XML last: a
 * reader that finds the XML finds everything it names. The prefix is claimed for the dataset first
 * (`<name>/.bdv-export`, libs/storage's export-claim.ts).
 */
export async function exportDatasetFiles(
  s3: S3Settings,
  bucket: string,
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
): Promise<Partial<DatasetFiles>> {
  const client = createS3Client(s3);
  const key = (file: string) => exportKeyOf(dataset.name, file);
  try {
    // Never over somebody else's objects: a purged dataset's kept copy under the same name, or
    // files put there by hand. A dataset that exported here before claims existed may go on.
    const exportedBefore = dataset.files.xmlUri === `s3://${bucket}/${key(dataset.files.xml)}`;
    await claimExportPrefix(client, bucket, exportPrefixOf(dataset.name), {
      owner: dataset.id,
      completeKey: key(dataset.files.xml),
      adoptUnclaimed: exportedBefore,
    });
    const partitions = views.flatMap((v) =>
      v.state === 'done' && v.result?.partition ? [join(dirname(dataset.files.h5), v.result.partition)] : [],
    );
    const sums = checksumPathFor(dataset.files.xml);
    await pMap(
      [dataset.files.h5, ...partitions],
      (file) => uploadFile(client, bucket, key(file), file, 'application/x-hdf5'),
      { concurrency: EXPORT_CONCURRENCY },
    );
    await uploadFile(client, bucket, key(sums), sums, 'application/json');
    await uploadFile(client, bucket, key(dataset.files.xml), dataset.files.xml, 'application/xml');
    return {
      h5Uri: `s3://${bucket}/${key(dataset.files.h5)}`,
      xmlUri: `s3://${bucket}/${key(dataset.files.xml)}`,
    };
  } finally {
    client.destroy();
  }
}
