import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

/** How long one state call may take before the request is answered 503 (a hung Redis). */
const COMMAND_TIMEOUT_MS = 5000;

/**
 * The API's client for request-time state (datasets, views): it fails fast while Redis is
 * unreachable — no offline queue, one retry, a command timeout — so a request is answered 503
 * at once instead of hanging until Redis returns. BullMQ's queues keep their own client with
 * `maxRetriesPerRequest: null`, as BullMQ requires. Reconnects by itself (ioredis' backoff).
 */
export function createStateStoreClient(url: string): Redis {
  const log = new Logger('state-store');
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
  // One line per outage, not one per reconnect attempt.
  let down = false;
  client.on('error', (error: Error) => {
    if (!down) log.warn(`Redis unreachable: ${error.message}`);
    down = true;
  });
  client.on('ready', () => {
    if (down) log.log('Redis reachable again');
    down = false;
  });
  return client;
}

/**
 * Resolves with the client once it is connected, or after `timeoutMs` if Redis does not answer
 * (the API then starts anyway and answers 503 until it does). Used as an async provider, so the
 * API does not take requests before its first connection: without an offline queue, a command
 * sent while still connecting would fail.
 */
export function whenConnected(client: Redis, timeoutMs = 10_000): Promise<Redis> {
  if (client.status === 'ready') return Promise.resolve(client);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve(client);
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
  });
}

const UNAVAILABLE_MESSAGES = [
  /^Stream isn't writeable/, // disconnected, and no offline queue
  /^Command timed out/,
  /^Connection is closed/,
  /^LOADING /, // restarted, still reading its append-only file
  /^BUSY /,
];

/** True for the errors of a state store that does not answer (not for a refused command). */
export function isStateStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return UNAVAILABLE_MESSAGES.some((m) => m.test(error.message));
}
