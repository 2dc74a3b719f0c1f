import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { verifyDataset, type VerifyOptions, type VerifyReport } from '../verify/verify-dataset.js';
import type { SpimDataDescription } from '../xml/spimdata-model.js';
import {
  checksumPathFor,
  readChecksumFile,
  sha256Of,
  writeChecksumFile,
  type ViewChecksums,
} from './checksum-file.js';
import { fsyncFolderOf } from './dataset-file.js';
import { writeXmlFile } from './file-writes.js';

/**
 * The last step of a dataset: its XML and checksum file are written under pending names, every
 * view is read back against its checksums, and only a dataset that verifies is published (both
 * renamed into place, checksums first). One that does not leaves nothing behind and says why.
 * The published record holds the XML's SHA-256: an XML changed since (BigStitcher saved its
 * registrations into it on the volume) is set aside at the next publish, not overwritten.
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
    writeChecksumFile(pendingSums, checksums, true, sha256Of(pendingXml));
    const report = await verifyDataset(pendingXml, options);
    if (!report.ok) return { ...report, xml: xmlPath };
    keepEditedXml(xmlPath);
    renameSync(pendingSums, checksumPathFor(xmlPath));
    renameSync(pendingXml, xmlPath);
    fsyncFolderOf(xmlPath);
    return { ...report, xml: xmlPath };
  } finally {
    rmSync(pendingXml, { force: true });
    rmSync(pendingSums, { force: true });
  }
}

/**
 * Renames the published XML to `<name>.edited-<time>.xml` beside it if it is no longer the one
 * the last publish wrote (its record's `xmlSha256`); an XML whose record predates the digest
 * cannot be told apart and is replaced as before. Returns the name it was kept under.
 */
function keepEditedXml(xmlPath: string): string | undefined {
  if (!existsSync(xmlPath)) return undefined;
  let recorded: string | undefined;
  try {
    recorded = readChecksumFile(checksumPathFor(xmlPath)).xmlSha256;
  } catch {
    return undefined; // no record to tell by
  }
  if (recorded === undefined || sha256Of(xmlPath) === recorded) return undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const kept = xmlPath.replace(/\.xml$/i, `.edited-${stamp}.xml`);
  renameSync(xmlPath, kept);
  return kept;
}
