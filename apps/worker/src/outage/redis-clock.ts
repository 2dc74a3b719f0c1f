import type { Redis } from 'ioredis';

/**
 * The cluster's one clock, Redis's own (`TIME`), in milliseconds. What several writers measure
 * together — how long a view has been waiting out an outage, started by one writer and checked by
 * the next — is measured on it: each writer's `Date.now()` is only as good as its machine's time
 * sync, and one 3 h ahead failed views after a 25 s outage as "still failing after 180 min".
 */
export function redisClock(redis: Pick<Redis, 'time'>): () => Promise<number> {
  return async () => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
}
