import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { verifyDataset, type VerifyOptions, type VerifyReport } from '../verify/verify-dataset.js';
import type { SpimDataDescription } from '../xml/spimdata-model.js';
import { checksumPathFor, writeChecksumFile, type ViewChecksums } from './checksum-file.js';
import { fsyncFolderOf } from './dataset-file.js';
import { writeXmlFile } from './file-writes.js';

/**
 * The last step of a dataset: its XML and checksum file are written under pending names, every
 * view is read back against its checksums, and only a dataset that verifies is published (both
 * renamed into place, checksums first). One that does not leaves nothing behind and says why.
 */
export async function publishVerifiedDataset(
  xmlPath: string,
  description: SpimDataDescription,
  checksums: readonly ViewChecksums[],
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const pendingXml = join(dirname(xmlPath), `.${basename(xmlPath, '.xml')}.pending.xml`);
  const pendingSums = checksumPathFor(pendingXml);
  try {
    writeXmlFile(pendingXml, description);
    writeChecksumFile(pendingSums, checksums, true);
    const report = await verifyDataset(pendingXml, options);
    if (!report.ok) return { ...report, xml: xmlPath };
    renameSync(pendingSums, checksumPathFor(xmlPath));
    renameSync(pendingXml, xmlPath);
    fsyncFolderOf(xmlPath);
    return { ...report, xml: xmlPath };
  } finally {
    rmSync(pendingXml, { force: true });
    rmSync(pendingSums, { force: true });
  }
}
