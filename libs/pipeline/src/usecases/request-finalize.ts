import type { JobQueuePort, ViewStatePort } from '../ports.js';
import type { FinalizeOptions } from '../state-model.js';

/** Asks for a dataset's XML: queued now if every view has settled, else by the last one to settle. */
export class RequestFinalize {
  constructor(
    private readonly store: Pick<ViewStatePort, 'requestFinalize'>,
    private readonly queues: Pick<JobQueuePort, 'enqueueFinalize'>,
  ) {}

  async execute(datasetId: string, options: FinalizeOptions = {}): Promise<number | undefined> {
    const generation = await this.store.requestFinalize(datasetId, options);
    if (generation !== undefined) await this.queues.enqueueFinalize(datasetId, generation);
    return generation;
  }
}
