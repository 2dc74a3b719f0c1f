import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npyHeader } from '@bdv-cluster/stacks';
import { ApiClient } from '../support/api-client.js';
import { child, children, describeBdv, tempDir } from '../support/oracle.js';
import { zerosNpy } from '../support/sparse-npy.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

const dir = tempDir('bdv-batch-');
let cluster: TestCluster;
let api: ApiClient;
let s3: S3Client;

const GAP = { time: 4, channel: 1, tile: 7 };
const SHAPE: [number, number, number] = [2, 6, 5];

/** A tiny .npy whose pixels encode its view, so any mix-up would show. */
function stack(time: number, channel: number, tile: number): Uint8Array {
  const data = new Uint16Array(SHAPE[0] * SHAPE[1] * SHAPE[2]).map(
    (_, i) => time * 1000 + channel * 100 + tile * 10 + (i % 10),
  );
  const header = npyHeader(SHAPE);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer), header.length);
  return out;
}

beforeAll(async () => {
  cluster = await startTestCluster(dir.path, 2);
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
  s3 = cluster.s3();
  const puts: Promise<unknown>[] = [];
  for (let time = 0; time < 10; time++)
    for (let channel = 0; channel < 2; channel++)
      for (let tile = 0; tile < 10; tile++) {
        if (time === GAP.time && channel === GAP.channel && tile === GAP.tile) continue;
        puts.push(
          s3.send(
            new PutObjectCommand({
              Bucket: 'raw',
              Key: `archive/run1/t${time}/ch${channel}_tile${tile}.npy`,
              Body: stack(time, channel, tile),
            }),
          ),
        );
      }
  await Promise.all(puts);
  await s3.send(new PutObjectCommand({ Bucket: 'raw', Key: 'archive/run1/notes.txt', Body: 'not a stack' }));
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

describe('batches', () => {
  const body = (extra: Record<string, unknown> = {}) => ({
    source: 's3://raw/archive/run1/',
    pattern: 't{time}/ch{channel}_tile{tile}.npy',
    dataset: {
      name: 'archive-run1',
      compression: 'gzip',
      subsamplingZyx: [
        [1, 1, 1],
        [1, 2, 2],
      ],
    },
    viewDefaults: { voxelSizeXyz: [0.4, 0.4, 1.5], voxelUnits: 'um' },
    ...extra,
  });

  it('plans without writing on dryRun', async () => {
    const r = await api.post('/v1/batches', body({ dryRun: true }));
    expect(r.status, JSON.stringify(r.body)).toBe(200); // nothing accepted for later: the plan is the answer
    expect(r.body.views).toHaveLength(199);
    expect(r.body).toMatchObject({ setup: { channels: 2, tiles: 10 }, timepoints: 10, unmatched: 1 });
    expect(
      (await api.get('/v1/datasets')).body.find((d: { name: string }) => d.name === 'archive-run1'),
    ).toBeUndefined();
  });

  it('converts 199 of 200 objects, the gap in MissingViews, and a re-run skips what is written', async () => {
    const r = await api.post('/v1/batches', body());
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toMatchObject({ views: 199, queued: 199, skipped: 0 });
    const done = await api.waitForDataset(r.body.datasetId, ['complete', 'failed'], 240_000);
    expect(done.status).toBe('complete');
    expect(done.views).toEqual({ queued: 0, running: 0, done: 199, failed: 0 });
    const status = await api.get(`/v1/batches/${r.body.batchId}`);
    expect(status.body.dataset.status).toBe('complete');

    const d = describeBdv(done.files.h5, done.files.xml);
    const seq = child(d.xml!, 'SequenceDescription');
    const missing = children(child(seq, 'MissingViews'), 'MissingView').map((m) => m.attrib);
    expect(missing).toEqual([{ timepoint: String(GAP.time), setup: String(GAP.channel * 10 + GAP.tile) }]);
    expect(children(child(d.xml!, 'ViewRegistrations'), 'ViewRegistration')).toHaveLength(199);
    expect(d.h5.datasets['t00009/s19/1/cells']).toMatchObject({ shape: [2, 3, 3], compression: 'gzip' });

    const again = await api.post('/v1/batches', body());
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ datasetId: r.body.datasetId, queued: 0, skipped: 199 });
    expect((await api.waitForDataset(r.body.datasetId, ['complete', 'failed'])).status).toBe('complete');

    // A re-run that maps other objects to the views (time and tile swapped: the same counts) is
    // refused, naming the views' sources, and queues nothing: it had answered "skipped".
    const swapped = await api.post('/v1/batches', body({ pattern: 't{tile}/ch{channel}_tile{time}.npy' }));
    expect(swapped.status, JSON.stringify(swapped.body)).toBe(409);
    expect(swapped.body.details).toEqual([
      {
        field: 'pattern',
        message: expect.stringMatching(
          /^this batch maps other objects to views the dataset already has: t\d+-i0-c0-s\d+-a0 came from s3:\/\/raw\/archive\/run1\/t\d\/ch0_tile\d\.npy, this batch has s3:\/\/raw\/archive\/run1\/t\d\/ch0_tile\d\.npy;/,
        ),
      },
    ]);
    const after = await api.get(`/v1/datasets/${r.body.datasetId}`);
    expect([after.body.status, after.body.views.done, after.body.views.queued]).toEqual(['complete', 199, 0]);
  });

  it('names the problem in a bad batch', async () => {
    const bad = await api.post('/v1/batches', body({ pattern: 't{time}/ch{chanel}.npy' }));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/pattern: unknown field \{chanel\}/);
    const none = await api.post('/v1/batches', body({ source: 's3://raw/nothing-here/' }));
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/no object under s3:\/\/raw\/nothing-here\/ matches/);
    const outside = await api.post('/v1/batches', body({ source: 'file:///etc/' }));
    expect(outside.status).toBe(400);
    expect(outside.body.message).toMatch(/outside the allowed folders/);
    // A shape the header gives, held to the dataset's blocks as a declared one is.
    mkdirSync(join(dir.path, 'wide'));
    zerosNpy(join(dir.path, 'wide', 't0.npy'), [96, 512, 512]);
    const tiny = await api.post('/v1/batches', {
      source: `file://${join(dir.path, 'wide')}/`,
      pattern: 't{time}.npy',
      dataset: { name: 'tiny-blocks', blockSizeZyx: [[1, 1, 1]] },
    });
    expect(tiny.status).toBe(400);
    expect(tiny.body.details).toEqual([
      {
        field: 'views[0].source',
        message: expect.stringMatching(/^96x512x512 \(z,y,x\) from its header: .* makes \d+ HDF5 chunks/),
      },
    ]);
    expect(
      (await api.get('/v1/datasets')).body.find((d: { name: string }) => d.name === 'tiny-blocks'),
    ).toBeUndefined();
  });
});
