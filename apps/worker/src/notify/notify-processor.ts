import {
  allowedNetworks,
  notificationSignature,
  notifyTargetProblem,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  type DatasetStore,
  type NotifyJob,
} from '@bdv-cluster/pipeline';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { postNotification, TargetRefused, type PostOutcome } from './post-notification.js';

export interface NotifierDeps {
  store: Pick<DatasetStore, 'notifySecret' | 'noteDelivery'>;
  /** NOTIFY_ALLOWED_HOSTS, judged again at send time (it may have changed since submit). */
  allowList: readonly string[];
  timeoutMs?: number;
  post?: typeof postNotification;
  log: Logger;
}

export type NotifyJobLike = Pick<Job<NotifyJob>, 'id' | 'data' | 'attemptsMade' | 'opts'>;

/** Answers a receiver gives when it may accept the same POST later. */
const RETRYABLE = (status: number) => status >= 500 || status === 408 || status === 429;

/**
 * Delivers one notification (docs/operations.md "Notifications"): the dataset's status JSON as
 * the body; `X-BDV-Event`, `X-BDV-Delivery` (the job id: the same for every retry, so a receiver
 * can drop duplicates), and with a secret `X-BDV-Timestamp` + `X-BDV-Signature`. A 2xx delivers;
 * a 5xx, 408, 429, timeout or network error is retried with backoff (BullMQ, its own queue); any
 * other answer (a 3xx too: redirects are not followed) and a refused target fail at once. The
 * outcome is noted on the dataset (`notify.lastDelivery`).
 */
export function notifyProcessor(deps: NotifierDeps) {
  return async (job: NotifyJobLike): Promise<string> => {
    const { datasetId, url, body, status } = job.data;
    const log = deps.log.child({ datasetId, jobId: job.id });
    const attempt = `attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}`;
    const note = (text: string) =>
      deps.store.noteDelivery(datasetId, `${text} (${new Date().toISOString()})`).catch(() => undefined);
    const refuse = async (why: string): Promise<never> => {
      await note(`refused: ${why}`);
      log.warn({ url, reason: why }, 'notification refused');
      throw new UnrecoverableError(why);
    };
    const problem = notifyTargetProblem(url, deps.allowList);
    if (problem) return refuse(problem);
    const secret = await deps.store.notifySecret(datasetId);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'bdv-cluster-notifier',
      'x-bdv-event': `dataset.${status}`,
      'x-bdv-delivery': String(job.id),
      ...(secret
        ? {
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: notificationSignature(secret, timestamp, body),
          }
        : {}),
    };
    let outcome: PostOutcome;
    try {
      outcome = await (deps.post ?? postNotification)(
        url,
        body,
        headers,
        allowedNetworks(deps.allowList),
        deps.timeoutMs ?? 10_000,
      );
    } catch (error) {
      if (error instanceof TargetRefused) return refuse(`${error.message} (not in NOTIFY_ALLOWED_HOSTS)`);
      await note(`failed (${attempt}): ${(error as Error).message}`);
      log.warn({ url, reason: (error as Error).message, attempt }, 'notification failed, will retry');
      throw error;
    }
    if (outcome.status >= 200 && outcome.status < 300) {
      await note(`delivered: HTTP ${outcome.status}`);
      log.info({ url, status: outcome.status }, 'notification delivered');
      return 'delivered';
    }
    const why = `HTTP ${outcome.status}${outcome.snippet ? `: ${outcome.snippet.slice(0, 200)}` : ''}`;
    if (!RETRYABLE(outcome.status)) {
      const permanent =
        outcome.status >= 300 && outcome.status < 400 ? `${why} (redirects are not followed)` : why;
      await note(`failed: ${permanent}`);
      log.warn({ url, status: outcome.status }, 'notification refused by the receiver');
      throw new UnrecoverableError(permanent);
    }
    await note(`failed (${attempt}): ${why}`);
    log.warn({ url, status: outcome.status, attempt }, 'notification failed, will retry');
    throw new Error(why);
  };
}
