import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { DatasetStore, type ViewResult } from '../src/index.js';

/**
 * A DatasetStore on the real Redis (REDIS_URL) under a key prefix of its own, its keys deleted
 * after the file's tests: what the Lua transition tests share.
 */
export function storeForTests(): { redis: Redis; prefix: string; store: DatasetStore } {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  return { redis, prefix, store: new DatasetStore(redis, prefix) };
}

/** The key of view `tile` of timepoint 0 (the other indices 0). */
export const viewKeyOf = (tile: number) => `t0-i0-c0-s${tile}-a0`;

/** View `tile` of timepoint 0 as a submission names it. */
export const viewSpecOf = (tile: number) => ({
  time: 0,
  illumination: 0,
  channel: 0,
  tile,
  angle: 0,
  source: { uri: 's3://raw/x.npy' },
});

/** A writer's report of a written view: `bytes` in `seconds`. */
export function viewResult(bytes: number, seconds: number): ViewResult {
  return {
    record: {
      time: 0,
      setupId: 0,
      shapeZyx: [1, 2, 3],
      voxelSizeXyz: [1, 1, 1],
      voxelUnits: 'px',
      calibrationXyz: [1, 1, 1],
      affineName: 'x',
      exposureTime: 0,
      exposureUnits: 's',
    },
    checksums: [],
    bytes,
    seconds,
  };
}
