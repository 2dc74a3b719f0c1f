import { DatasetSpec } from '@bdv-cluster/contract';
import { DatasetStore } from '@bdv-cluster/pipeline';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

// Real Redis: dataset names are claimed case-insensitively (one file on a case-insensitive volume).
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `test-${randomBytes(4).toString('hex')}`;
const store = new DatasetStore(redis, prefix);
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const files = { h5: '/out/x.h5', xml: '/out/x.xml' };
const spec = (name: string) => DatasetSpec.parse({ name });

describe('dataset names', () => {
  it('lets one spelling of a name in, keeps it as given, and finds it in any case', async () => {
    const first = await store.createDataset(spec('Run-A'), files);
    expect(first?.name).toBe('Run-A');
    expect(await store.createDataset(spec('run-a'), files)).toBeUndefined();
    expect(await store.createDataset(spec('RUN-A'), files)).toBeUndefined();
    expect(await store.idByName('rUn-A')).toBe(first!.id);
  });

  // (Another spelling of such a name is not found in Redis; on a case-insensitive volume the
  // existing .h5 still refuses it, see RegisterDataset.)
  it('still knows names registered under their exact spelling before', async () => {
    await redis.hset(store.keys.names(), 'Legacy-Run', 'legacy-id');
    expect(await store.idByName('Legacy-Run')).toBe('legacy-id');
    expect(await store.createDataset(spec('Legacy-Run'), files)).toBeUndefined();
  });
});
