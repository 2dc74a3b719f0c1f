/** Every Redis key of the cluster's state, in one place. */
export class RedisKeys {
  constructor(private readonly prefix = 'bdv') {}
  dataset = (id: string) => `${this.prefix}:ds:${id}`;
  viewStates = (id: string) => `${this.prefix}:ds:${id}:view-state`;
  counts = (id: string) => `${this.prefix}:ds:${id}:counts`;
  errors = (id: string) => `${this.prefix}:ds:${id}:errors`;
  viewSpecs = (id: string) => `${this.prefix}:ds:${id}:view-spec`;
  viewResults = (id: string) => `${this.prefix}:ds:${id}:view-result`;
  viewErrors = (id: string) => `${this.prefix}:ds:${id}:view-error`;
  /** Views waiting for an outage to end: viewKey -> what they wait for. */
  viewWaiting = (id: string) => `${this.prefix}:ds:${id}:view-waiting`;
  /** KEYS of every transition script, in the order state-scripts.ts expects. */
  transition = (id: string) => [
    this.dataset(id),
    this.viewStates(id),
    this.counts(id),
    this.errors(id),
    this.viewSpecs(id),
    this.viewResults(id),
    this.viewErrors(id),
    this.viewWaiting(id),
    this.names(),
    this.stats(),
  ];
  /** The secret that signs a dataset's notifications (never part of the dataset hash). */
  notifySecret = (id: string) => `${this.prefix}:ds:${id}:notify-secret`;
  lock = (id: string) => `${this.prefix}:lock:${id}`;
  /** Lower-case dataset name -> id (see DatasetStore.createDataset). */
  names = () => `${this.prefix}:dataset-names`;
  index = () => `${this.prefix}:datasets`;
  batch = (id: string) => `${this.prefix}:batch:${id}`;
  /** Cluster-wide counters (/metrics), moved by the transitions they count. */
  stats = () => `${this.prefix}:stats`;
}
