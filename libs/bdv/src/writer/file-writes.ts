import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ViewRecord } from '../model/view-metadata.js';
import type { SpimDataDescription } from '../xml/spimdata-model.js';
import { assertReadableXml } from '../xml/parse-back.js';
import { buildSpimDataXml } from '../xml/spimdata-xml.js';
import type { BdvFormat } from './bdv-format.js';
import { DatasetFile } from './dataset-file.js';
import type { StackInput, ViewProgress } from './stack-input.js';

/**
 * Every way a view reaches a file, as functions of plain data (in the spirit of pybdv's
 * make_bdv): the CLI's BdvWriter, the cluster's writers and its finalizer all call these.
 */

/** Appends one view to a dataset's single .h5 (created with every setup header when absent). */
export async function appendViewToFile(
  h5Path: string,
  format: BdvFormat,
  record: ViewRecord,
  stack: StackInput,
  onProgress?: (p: ViewProgress) => void,
): Promise<void> {
  const file = await DatasetFile.openOrCreate(h5Path, format);
  try {
    await file.writeView(record, stack, onProgress);
  } finally {
    file.close();
  }
}

/** Writes one view's partition file (its setup header and every level), closed and fsynced. */
export async function writePartition(
  partitionPath: string,
  format: BdvFormat,
  record: ViewRecord,
  stack: StackInput,
  onProgress?: (p: ViewProgress) => void,
): Promise<void> {
  const file = await DatasetFile.createPartition(partitionPath, format, record.setupId);
  try {
    await file.writeView(record, stack, onProgress);
  } finally {
    file.close();
  }
}

/** One partition of the partitioned layout: which view, in which file (relative to the master). */
export interface PartitionLink {
  time: number;
  setupId: number;
  file: string;
}

/**
 * The master .h5 of the partitioned layout: every setup header and, per view and level, an
 * external link into its partition. Built whole beside the target and renamed over it, so a
 * reader sees the old master or the new one, never half of one.
 */
export async function writePartitionedMaster(
  h5Path: string,
  format: BdvFormat,
  partitions: readonly PartitionLink[],
): Promise<void> {
  const tmp = join(dirname(h5Path), `.${basename(h5Path)}.tmp`);
  const master = await DatasetFile.create(tmp, format, true);
  try {
    for (const p of partitions) master.linkPartition(p, p.file);
  } catch (error) {
    master.close();
    rmSync(tmp, { force: true });
    throw error;
  }
  master.close();
  renameSync(tmp, h5Path);
}

/**
 * The SpimData XML for `description`, parsed back by a real XML parser first (a file no reader
 * opens is never written), then written atomically (temp file, fsync, rename).
 */
export function writeXmlFile(xmlPath: string, description: SpimDataDescription): string {
  const xml = buildSpimDataXml(description);
  assertReadableXml(xml, 'SpimData');
  writeFileAtomically(xmlPath, xml);
  return xmlPath;
}

function writeFileAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
