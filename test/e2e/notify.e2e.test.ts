import { verifyNotification } from '@bdv-cluster/pipeline';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { writeBeadNpy } from '../support/bead-stacks.js';
import { PYTHON, tempDir } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

// Notifications against real processes and a real local receiver: the dataset's status JSON is
// POSTed, signed, when it becomes complete or failed; retried with backoff; never holding up the
// finalize; only to hosts of NOTIFY_ALLOWED_HOSTS; the secret is never shown back.

const SECRET = 'e2e-notification-secret-0123';
const dir = tempDir('bdv-e2e-notify-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let api: ApiClient;

interface Delivery {
  path: string;
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}
const deliveries: Delivery[] = [];
/** How the receiver answers each path: a status per call (the last one repeats), and a delay. */
const script: Record<string, { statuses: number[]; holdMs?: number }> = {
  '/flaky': { statuses: [503, 200] },
  '/slow': { statuses: [200], holdMs: 6000 },
};
let receiver: Server;
let hook: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      deliveries.push({ path, at: Date.now(), headers: req.headers, body });
      const s = script[path] ?? { statuses: [200] };
      const status = s.statuses.length > 1 ? s.statuses.shift()! : s.statuses[0]!;
      setTimeout(() => res.writeHead(status).end(), s.holdMs ?? 0);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  hook = `http://127.0.0.1:${port}`;
  writeBeadNpy(p('good.npy'), [8, 40, 40], [{ z: 1, y: 1, x: 1, size: 3, value: 999 }]);
  mkdirSync(p('batch'));
  for (const t of [0, 1])
    writeBeadNpy(p(`batch/t${t}.npy`), [6, 30, 30], [{ z: 1, y: 1, x: 1, size: 3, value: 500 }]);
  execFileSync(PYTHON, [
    '-c',
    `import numpy as np, tifffile
with tifffile.TiffWriter(${JSON.stringify(p('corrupt.tif'))}) as t:
    for rows in (30, 30, 20): t.write(np.zeros((rows, 30), np.uint16))`,
  ]);
  cluster = await startTestCluster(dir.path, 1, { NOTIFY_ALLOWED_HOSTS: `127.0.0.1:${port}` });
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
});

afterAll(async () => {
  await cluster?.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
  dir.remove();
});

async function deliveryTo(path: string, count = 1, timeoutMs = 60_000): Promise<Delivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = deliveries.filter((d) => d.path === path);
    if (got.length >= count) return got;
    if (Date.now() > deadline)
      throw new Error(`no ${count} deliveries to ${path}: ${JSON.stringify(deliveries)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function datasetWithOneView(
  name: string,
  path: string,
  source: string,
  notify: Record<string, string>,
) {
  const created = await api.post('/v1/datasets', { name, notify: { url: `${hook}${path}`, ...notify } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  expect(
    (await api.post(`/v1/datasets/${id}/views`, { source: { uri: `file://${p(source)}` } })).status,
  ).toBe(202);
  expect((await api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(202);
  return id;
}

describe('notify on a dataset', () => {
  it('refuses a URL outside NOTIFY_ALLOWED_HOSTS with 400 naming notify.url', async () => {
    for (const url of [
      'http://169.254.169.254/latest',
      'http://localhost:1/x',
      `${hook.replace('127.0.0.1', '127.0.0.2')}/x`,
    ]) {
      const r = await api.post('/v1/datasets', { name: 'e2e-refused', notify: { url } });
      expect(r.status, url).toBe(400);
      expect(r.body.message).toMatch(/^notify\.url: host .* is not in NOTIFY_ALLOWED_HOSTS/);
      expect(r.body.details).toEqual([{ field: 'notify.url', message: expect.any(String) }]);
    }
    const malformed = await api.post('/v1/datasets', {
      name: 'e2e-refused',
      notify: { url: 'ftp://x/y', secret: 'short' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toMatch(/notify\.url: must be an http:\/\/ or https:\/\/ URL/);
    expect(malformed.body.message).toMatch(/notify\.secret/);
    expect((await api.get('/v1/datasets')).body.map((d: { name: string }) => d.name)).not.toContain(
      'e2e-refused',
    );
  });

  it('POSTs the signed status JSON once complete, without holding up the finalize; the secret never shows', async () => {
    const id = await datasetWithOneView('e2e-notified', '/slow', 'good.npy', { secret: SECRET });
    // the receiver holds its answer 6 s: the dataset is complete meanwhile
    const [delivery] = await deliveryTo('/slow');
    expect((await api.get(`/v1/datasets/${id}`)).body.status).toBe('complete');
    const body = JSON.parse(delivery!.body);
    expect(body).toMatchObject({
      id,
      name: 'e2e-notified',
      status: 'complete',
      views: { done: 1, failed: 0 },
    });
    expect(body.files.xml).toMatch(/e2e-notified\.xml$/);
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.headers['x-bdv-event']).toBe('dataset.complete');
    expect(delivery!.headers['x-bdv-delivery']).toBe(`notify.${id}.1.complete`);
    const signature = {
      timestamp: delivery!.headers['x-bdv-timestamp'] as string,
      signature: delivery!.headers['x-bdv-signature'] as string,
    };
    expect(signature.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyNotification(SECRET, signature, delivery!.body)).toBe(true);
    expect(verifyNotification('another-secret-of-16', signature, delivery!.body)).toBe(false);

    // what GET shows: where it goes and that it is signed; never the secret
    const shown = await api.request('GET', `/v1/datasets/${id}`);
    expect(shown.body.notify).toMatchObject({ url: `${hook}/slow`, signed: true });
    for (const path of [`/v1/datasets/${id}`, '/v1/datasets', `/v1/datasets/${id}/views`]) {
      const r = await fetch(`${cluster.stack.apiUrl}${path}`, {
        headers: { authorization: `Bearer ${cluster.stack.token}` },
      });
      expect(await r.text(), path).not.toContain(SECRET);
    }
    expect(delivery!.body).not.toContain(SECRET);
    const noted = await api.waitForDataset(id, ['complete']).then(async () => {
      for (let i = 0; i < 100; i++) {
        const n = (await api.get(`/v1/datasets/${id}`)).body.notify;
        if (n.lastDelivery) return n.lastDelivery as string;
        await new Promise((r) => setTimeout(r, 100));
      }
      return '';
    });
    expect(noted).toMatch(/^delivered: HTTP 200/);
  });

  it('retries a failing receiver with backoff, the same delivery id each time', async () => {
    const id = await datasetWithOneView('e2e-flaky', '/flaky', 'good.npy', {});
    const [first, second] = await deliveryTo('/flaky', 2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(4000); // BullMQ's exponential backoff, 5 s first
    expect(second!.headers['x-bdv-delivery']).toBe(first!.headers['x-bdv-delivery']);
    expect(first!.headers['x-bdv-signature']).toBeUndefined(); // no secret: unsigned
    expect(JSON.parse(second!.body)).toMatchObject({ id, status: 'complete' });
  });

  it('announces a dataset that failed', async () => {
    const id = await datasetWithOneView('e2e-failed', '/failed', 'corrupt.tif', {});
    expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('failed');
    const [delivery] = await deliveryTo('/failed');
    expect(delivery!.headers['x-bdv-event']).toBe('dataset.failed');
    const body = JSON.parse(delivery!.body);
    expect(body.status).toBe('failed');
    expect(body.errors.join('\n')).toMatch(/corrupt\.tif/);
  });
});

describe('notify on a batch (dataset.notify)', () => {
  it('is announced once the batch dataset completes', async () => {
    const r = await api.post('/v1/batches', {
      source: `file://${p('batch')}/`,
      pattern: 't{time}.npy',
      dataset: { name: 'e2e-batch-notified', notify: { url: `${hook}/batch`, secret: SECRET } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const [delivery] = await deliveryTo('/batch');
    expect(JSON.parse(delivery!.body)).toMatchObject({
      id: r.body.datasetId,
      status: 'complete',
      views: { done: 2 },
    });
    expect(
      verifyNotification(
        SECRET,
        {
          timestamp: delivery!.headers['x-bdv-timestamp'] as string,
          signature: delivery!.headers['x-bdv-signature'] as string,
        },
        delivery!.body,
      ),
    ).toBe(true);
    // re-running the same batch (same notify) is the same dataset, not a 409
    const again = await api.post('/v1/batches', {
      source: `file://${p('batch')}/`,
      pattern: 't{time}.npy',
      dataset: { name: 'e2e-batch-notified', notify: { url: `${hook}/batch`, secret: SECRET } },
    });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.body).toMatchObject({ datasetId: r.body.datasetId, queued: 0, skipped: 2 });
  });
});
