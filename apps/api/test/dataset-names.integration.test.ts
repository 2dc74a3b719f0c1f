import { DatasetSpec } from '@bdv-cluster/contract';
import { DatasetStore, RegisterDataset } from '@bdv-cluster/pipeline';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

// Real Redis: dataset names are claimed case-insensitively (one file on a case-insensitive volume).
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `test-${randomBytes(4).toString('hex')}`;
const store = new DatasetStore(redis, prefix);
const outputDir = mkdtempSync(join(tmpdir(), 'bdv-names-'));
afterAll(async () => {
  rmSync(outputDir, { recursive: true, force: true });
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

describe('registering a name whose output folder exists', () => {
  const register = new RegisterDataset(store, outputDir);
  const folder = (name: string, files: Record<string, string>) => {
    mkdirSync(join(outputDir, name, 'sub'), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(outputDir, name, file), text);
  };

  // The dataset's writers, finalizer and DELETE take OUTPUT_DIR/<name>/ for its own.
  it('is refused while the folder holds anything, which stays as it was', async () => {
    folder('scans', { 'final.h5': 'data', 'notes.txt': 'lab notes' });
    await expect(register.execute(spec('scans'))).rejects.toMatchObject({
      kind: 'CONFLICT',
      field: 'name',
      message: expect.stringMatching(
        /scans is taken: its output folder .*scans already holds 3 file\(s\) \(final\.h5, notes\.txt, sub\)/,
      ),
    });
    expect(await store.idByName('scans')).toBeUndefined();
    expect(readdirSync(join(outputDir, 'scans')).sort()).toEqual(['final.h5', 'notes.txt', 'sub']);

    folder('parts', { 'parts-t00000-s00.h5': 'an earlier partition' });
    rmSync(join(outputDir, 'parts', 'sub'), { recursive: true });
    await expect(register.execute(spec('parts'))).rejects.toThrow(
      /holds 1 file\(s\) \(parts-t00000-s00\.h5\)/,
    );
    writeFileSync(join(outputDir, 'plain'), 'a file where the folder would be');
    await expect(register.execute(spec('plain'))).rejects.toMatchObject({
      kind: 'CONFLICT',
      message: expect.stringMatching(/already holds a file of that name, not a folder/),
    });
  });

  it('is accepted when the folder is empty or holds only its write fence files', async () => {
    mkdirSync(join(outputDir, 'empty'));
    expect((await register.execute(spec('empty'))).name).toBe('empty');
    folder('fenced', {
      '.fenced.h5.lock': '',
      '.fenced.h5.want': '',
      '.DS_Store': '',
      '.nfs0000beef0001': '',
    });
    rmSync(join(outputDir, 'fenced', 'sub'), { recursive: true });
    expect((await register.execute(spec('fenced'))).name).toBe('fenced');
    expect((await register.execute(spec('fresh'))).name).toBe('fresh');
  });
});
