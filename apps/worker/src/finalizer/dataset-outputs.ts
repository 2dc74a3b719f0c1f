import { resolveFormat, writePartitionedMaster, writeXmlFile } from '@bdv-cluster/bdv';
import {
  spimDataFromState,
  type DatasetFiles,
  type DatasetRecord,
  type ViewEntry,
} from '@bdv-cluster/pipeline';
import { createS3Client, uploadFile, type S3Settings } from '@bdv-cluster/storage';
import { basename, dirname, join } from 'node:path';

/** The partitioned master (if any) and the XML of a dataset's written views, both atomic. */
export async function writeDatasetFiles(dataset: DatasetRecord, views: readonly ViewEntry[]): Promise<void> {
  if (dataset.spec.layout === 'partitioned') {
    const partitions = views.flatMap((v) =>
      v.state === 'done' && v.result?.partition
        ? [{ time: v.spec.time, setupId: v.setupId, file: v.result.partition }]
        : [],
    );
    await writePartitionedMaster(dataset.files.h5, resolveFormat(dataset.spec), partitions);
  }
  writeXmlFile(dataset.files.xml, spimDataFromState(dataset, views));
}

/** Copies the .h5 (and partitions) and the XML to `<bucket>/<name>/`; returns their URIs. */
export async function exportDatasetFiles(
  s3: S3Settings,
  bucket: string,
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
): Promise<Partial<DatasetFiles>> {
  const client = createS3Client(s3);
  const key = (file: string) => `${dataset.name}/${basename(file)}`;
  try {
    const partitions = views.flatMap((v) =>
      v.state === 'done' && v.result?.partition ? [join(dirname(dataset.files.h5), v.result.partition)] : [],
    );
    for (const file of [dataset.files.h5, ...partitions])
      await uploadFile(client, bucket, key(file), file, 'application/x-hdf5');
    await uploadFile(client, bucket, key(dataset.files.xml), dataset.files.xml, 'application/xml');
    return {
      h5Uri: `s3://${bucket}/${key(dataset.files.h5)}`,
      xmlUri: `s3://${bucket}/${key(dataset.files.xml)}`,
    };
  } finally {
    client.destroy();
  }
}
