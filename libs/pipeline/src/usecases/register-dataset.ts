import type { DatasetSpec } from '@bdv-cluster/contract';
import { existsSync } from 'node:fs';
import { datasetFiles } from '../output-paths.js';
import { notifyTargetProblem } from '../notify/notify-targets.js';
import { PipelineError } from '../pipeline-error.js';
import type { ViewStatePort } from '../ports.js';
import type { DatasetRecord } from '../state-model.js';

/**
 * Registers a dataset under a unique name. Names are output file names: a name taken in Redis,
 * or an .h5 already on the output volume that Redis does not know (state lost, restored, or
 * written by hand), is refused — an existing file is never appended to or overwritten. A `notify`
 * URL must name a host of the cluster's allow-list (NOTIFY_ALLOWED_HOSTS; empty: none).
 */
export class RegisterDataset {
  constructor(
    private readonly store: Pick<ViewStatePort, 'createDataset' | 'idByName' | 'getDataset'>,
    private readonly outputDir: string,
    private readonly notifyAllowList: readonly string[] = [],
  ) {}

  async execute(spec: DatasetSpec, batchId?: string): Promise<DatasetRecord> {
    const notifyProblem = spec.notify && notifyTargetProblem(spec.notify.url, this.notifyAllowList);
    if (notifyProblem) throw new PipelineError('INVALID', `notify.url: ${notifyProblem}`, 'notify.url');
    const files = datasetFiles(this.outputDir, spec.name);
    if (!(await this.store.idByName(spec.name)) && existsSync(files.h5)) {
      throw new PipelineError('CONFLICT', `name: ${spec.name} is taken (its .h5 already exists)`, 'name');
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
