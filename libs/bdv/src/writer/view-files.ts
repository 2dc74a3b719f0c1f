import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BdvError } from '../errors.js';
import { rollBack } from '../h5/rollback-journal.js';
import { assertOwner, claimFile, WriterFence } from '../h5/writer-fence.js';
import type { LevelChecksum } from '../model/checksums.js';
import { setupCount } from '../model/setup-model.js';
import type { ViewRecord } from '../model/view-metadata.js';
import type { BdvFormat } from './bdv-format.js';
import { buildFile, DatasetFile, fsyncFolderOf } from './dataset-file.js';
import type { StackInput, ViewProgress } from './stack-input.js';

/**
 * Every way a view reaches a file, as functions of plain data (in the spirit of pybdv's
 * make_bdv): the CLI's BdvWriter, the cluster's writers and its finalizer all call these. Each
 * one is crash-safe by construction: a single file takes appends whole or not at all (fence +
 * rollback journal), partitions and masters appear whole (temporary name, fsync, rename).
 */

export interface AppendOptions {
  onProgress?: (p: ViewProgress) => void;
  /** Who may append: recorded when the file is created, checked on every later append. */
  owner?: string;
  /** Checked while waiting for the file's fence (the write itself checks its slabs). */
  cancel?: { readonly aborted: boolean };
}

/**
 * Appends one view to a dataset's single .h5 (created with every setup header when absent). Takes
 * the file's fence (waiting 5 s, then FILE_LOCKED if another process writes it), rolls back a crashed
 * append first, and commits only a complete view: on any failure the file is left as it was.
 */
export async function appendViewToFile(
  h5Path: string,
  format: BdvFormat,
  record: ViewRecord,
  stack: StackInput,
  options: AppendOptions = {},
): Promise<LevelChecksum[]> {
  const fence = await WriterFence.acquire(h5Path, { cancel: options.cancel });
  try {
    const file = await openAppend(h5Path, format, options.owner);
    try {
      const checksums = await file.writeView(record, stack, options.onProgress);
      assertFenceHeld(h5Path, fence);
      file.close();
      return checksums;
    } catch (error) {
      file.abort();
      throw error;
    }
  } finally {
    await fence?.release();
  }
}

/**
 * Opens a dataset's single .h5 to append under its rollback journal (created with every setup
 * header when absent), after rolling back a crashed append. The caller holds the file's fence.
 */
export async function openAppend(h5Path: string, format: BdvFormat, owner?: string): Promise<DatasetFile> {
  rollBack(h5Path);
  if (!existsSync(h5Path)) {
    if (owner) claimFile(h5Path, owner);
    await DatasetFile.createEmpty(h5Path, format);
  } else if (owner) {
    assertOwner(h5Path, owner);
  }
  return DatasetFile.openForAppend(h5Path, format);
}

/** Nothing is committed by a writer that lost its fence: somebody else may write the file now. */
export function assertFenceHeld(h5Path: string, fence: WriterFence | undefined): void {
  if (fence && !fence.held)
    throw new BdvError('STATE', `lost the write fence of ${basename(h5Path)}`, 'output');
}

/**
 * Writes one view's partition file (its setup header and every level) under a temporary name
 * and returns that name: nothing is visible at `partitionPath` until `commitPartition`. A caller
 * that may have been superseded meanwhile (a paused cluster writer) checks before committing.
 */
export async function stagePartition(
  partitionPath: string,
  format: BdvFormat,
  record: ViewRecord,
  stack: StackInput,
  onProgress?: (p: ViewProgress) => void,
): Promise<{ staged: string; checksums: LevelChecksum[] }> {
  const staged = join(
    dirname(partitionPath),
    `.${basename(partitionPath)}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const file = await DatasetFile.createScratch(staged, format);
  try {
    file.writeSetupHeader(record.setupId);
    const checksums = await file.writeView(record, stack, onProgress);
    file.close();
    return { staged, checksums };
  } catch (error) {
    try {
      file.close();
    } catch {
      // the staged file goes anyway
    }
    rmSync(staged, { force: true });
    throw error;
  }
}

/** Puts a staged partition in place (atomic rename): readers see the old file or the new one. */
export function commitPartition(staged: string, partitionPath: string): void {
  renameSync(staged, partitionPath);
  fsyncFolderOf(partitionPath);
}

/** Stages and commits one view's partition file. */
export async function writePartition(
  partitionPath: string,
  format: BdvFormat,
  record: ViewRecord,
  stack: StackInput,
  onProgress?: (p: ViewProgress) => void,
): Promise<LevelChecksum[]> {
  const { staged, checksums } = await stagePartition(partitionPath, format, record, stack, onProgress);
  commitPartition(staged, partitionPath);
  return checksums;
}

/** One partition of the partitioned layout: which view, in which file (relative to the master). */
export interface PartitionLink {
  time: number;
  setupId: number;
  file: string;
}

/**
 * The master .h5 of the partitioned layout: every setup header and, per view and level, an
 * external link into its partition; built whole and renamed over the old one.
 */
export async function writePartitionedMaster(
  h5Path: string,
  format: BdvFormat,
  partitions: readonly PartitionLink[],
): Promise<void> {
  await buildFile(h5Path, format, (master) => {
    for (let s = 0; s < setupCount(format.setup); s++) master.writeSetupHeader(s);
    for (const p of partitions) master.linkPartition(p, p.file);
  });
}
