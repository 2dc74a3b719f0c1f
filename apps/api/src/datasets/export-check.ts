import type { S3Client } from '@aws-sdk/client-s3';
import { datasetFiles, exportKeyOf, exportPrefixOf } from '@bdv-cluster/pipeline';
import { exportPrefixProblem, StorageError } from '@bdv-cluster/storage';

/**
 * Registration's look at OUTPUT_BUCKET: why a new dataset named `name` could not export there (a
 * purged dataset's kept copy, objects nobody exported). A store that cannot be asked now (down,
 * or the API's credentials may not read it) does not hold registration back: the finalizer
 * checks again before its first upload and says why it cannot.
 */
export function exportCheck(s3: S3Client, bucket: string): (name: string) => Promise<string | undefined> {
  return async (name) => {
    // Only the XML's file name is used: the export's keys do not depend on OUTPUT_DIR.
    const xml = datasetFiles('/', name).xml;
    try {
      return await exportPrefixProblem(s3, bucket, exportPrefixOf(name), exportKeyOf(name, xml));
    } catch (error) {
      if (error instanceof StorageError) return undefined;
      throw error;
    }
  };
}
