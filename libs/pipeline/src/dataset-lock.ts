import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * The per-dataset turn of the single layout: writers of one dataset take turns, so a writer does
 * not sit blocked on a file another is appending to but takes other work meanwhile. Held with a
 * token and a TTL that the holder keeps renewing; a crashed holder's lock expires by itself.
 * Scheduling only: what keeps the file safe, even from a writer paused past this TTL, is the
 * file's own write fence (libs/bdv WriterFence).
 */
export class DatasetLock {
  private timer?: NodeJS.Timeout;
  private lost = false;

  private constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly token: string,
    private readonly ttlMs: number,
  ) {}

  static async tryAcquire(redis: Redis, key: string, ttlMs = 30_000): Promise<DatasetLock | undefined> {
    const token = randomUUID();
    const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    const lock = new DatasetLock(redis, key, token, ttlMs);
    lock.timer = setInterval(() => void lock.renew(), Math.floor(ttlMs / 3));
    return lock;
  }

  /** False once another holder took over (our TTL ran out). */
  get held(): boolean {
    return !this.lost;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(RELEASE, 1, this.key, this.token);
  }

  private async renew(): Promise<void> {
    try {
      const ok = await this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs);
      if (ok !== 1) this.lost = true;
    } catch {
      // Redis briefly unreachable: the next renewal retries; the TTL covers the gap.
    }
  }
}
