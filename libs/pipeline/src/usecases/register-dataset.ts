import { fenceFileOf, wantFileOf } from '@bdv-cluster/bdv';
import type { DatasetSpec } from '@bdv-cluster/contract';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { datasetFiles } from '../output-paths.js';
import { notifyTargetProblem } from '../notify/notify-targets.js';
import { PipelineError } from '../pipeline-error.js';
import type { ViewStatePort } from '../ports.js';
import type { DatasetRecord } from '../state-model.js';

/**
 * Registers a dataset under a unique name. Names are output file names: a name taken in Redis,
 * or a folder OUTPUT_DIR/<name>/ already holding files that Redis does not know of (state lost,
 * restored, a partitioned dataset's views before its master, or files put there by hand), is
 * refused — the dataset's writers, finalizer and deletion treat that folder as its own, so an
 * existing file is never appended to, overwritten or deleted. A `notify` URL must name a host of
 * the cluster's allow-list (NOTIFY_ALLOWED_HOSTS; empty: none).
 */
export class RegisterDataset {
  constructor(
    private readonly store: Pick<ViewStatePort, 'createDataset' | 'idByName' | 'getDataset'>,
    private readonly outputDir: string,
    private readonly notifyAllowList: readonly string[] = [],
    /** Why a new dataset of this name could not export (OUTPUT_BUCKET set): asked before anything is converted. */
    private readonly exportProblem?: (name: string) => Promise<string | undefined>,
  ) {}

  async execute(spec: DatasetSpec, batchId?: string): Promise<DatasetRecord> {
    const notifyProblem = spec.notify && notifyTargetProblem(spec.notify.url, this.notifyAllowList);
    if (notifyProblem) throw new PipelineError('INVALID', `notify.url: ${notifyProblem}`, 'notify.url');
    const files = datasetFiles(this.outputDir, spec.name);
    if (!(await this.store.idByName(spec.name))) {
      const found = occupant(files.h5);
      if (found)
        throw new PipelineError(
          'CONFLICT',
          `name: ${spec.name} is taken: its output folder ${dirname(files.h5)} already holds ${found} (choose another name, or move those files away)`,
          'name',
        );
      // Its export would fail at the end, after every view was converted: refused now.
      const exportTaken = await this.exportProblem?.(spec.name);
      if (exportTaken)
        throw new PipelineError('CONFLICT', `name: ${spec.name} is taken: ${exportTaken}`, 'name');
    }
    const record = await this.store.createDataset(spec, files, batchId);
    if (!record)
      throw new PipelineError(
        'CONFLICT',
        `name: a dataset named ${spec.name} already exists (names are never overwritten)`,
        'name',
      );
    return record;
  }

  /** The dataset registered under `name`, if any. */
  async existing(name: string): Promise<DatasetRecord | undefined> {
    const id = await this.store.idByName(name);
    return id ? this.store.getDataset(id) : undefined;
  }
}

/**
 * Left in a folder by file-sharing clients, not by anyone's work: NFS's renamed-while-open files
 * (`.nfsXXXX`, gone when the last holder closes), macOS's `.DS_Store` and `._*` resource forks.
 */
const LITTER = /^(?:\.nfs[0-9a-fA-F]+|\.DS_Store|\._.*)$/;

/**
 * What makes the output folder of `h5` someone's already: the .h5 itself, or any entry of the
 * folder but the write fence's own lock and ask files (which a deletion raced by a preview may
 * leave behind, guarding nothing) and file-sharing litter. undefined if the folder is free.
 */
function occupant(h5: string): string | undefined {
  if (existsSync(h5)) return basename(h5);
  let entries: string[];
  try {
    entries = readdirSync(dirname(h5));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') return 'a file of that name, not a folder';
    throw new PipelineError(
      'UNAVAILABLE',
      `output folder ${dirname(h5)}: ${code ?? (error as Error).message}`,
    );
  }
  const fence = new Set([basename(fenceFileOf(h5)), basename(wantFileOf(h5))]);
  const others = entries.filter((name) => !fence.has(name) && !LITTER.test(name));
  if (others.length === 0) return undefined;
  const shown = others.slice(0, 3).join(', ');
  return `${others.length} file(s) (${shown}${others.length > 3 ? ', …' : ''})`;
}
