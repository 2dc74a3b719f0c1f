import { ClusterQueues, FINALIZE_QUEUE } from '@bdv-cluster/pipeline';
import type { INestApplication } from '@nestjs/common';
import express from 'express';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authGate } from '../src/common/auth-gate.js';
import { mountQueueBoard } from '../src/common/queue-board.js';

// The gate in front of the real Bull Board on real queues (Redis, a prefix of its own): a browser
// that has the board's password cached sends it with requests other sites make, so Basic
// credentials may change something there only from the board's own page.

const token = 'queue-board-token-0123456789';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-board-${randomBytes(4).toString('hex')}`;
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queues = new ClusterQueues(connection, prefix);
let server: Server;
let base: string;
let host: string;

beforeAll(async () => {
  const app = express();
  app.use(authGate([token]));
  // mountQueueBoard only calls use(), which an Express app has as Nest's does.
  mountQueueBoard(app as unknown as INestApplication, queues);
  server = await new Promise<Server>((done) => {
    const s = app.listen(0, '127.0.0.1', () => done(s));
  });
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${host}`;
});

beforeEach(async () => {
  await queues.finalize.obliterate({ force: true });
});

afterAll(async () => {
  await new Promise((done) => server?.close(done));
  await Promise.all([queues.write, queues.finalize, queues.notify].map((q) => q.obliterate({ force: true })));
  await Promise.all([queues.write, queues.finalize, queues.notify].map((q) => q.close()));
  const keys = await connection.keys(`${prefix}:*`);
  if (keys.length) await connection.del(...keys);
  connection.disconnect();
});

const basic = `Basic ${Buffer.from(`someone:${token}`).toString('base64')}`;
const addPath = `/queues/api/queues/${FINALIZE_QUEUE}/add`;

async function send(method: string, path: string, headers: Record<string, string>, body?: object) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
    body: body && JSON.stringify(body),
    redirect: 'manual',
  });
  return { status: res.status, text: await res.text() };
}

const jobs = () => queues.finalize.getJobCountByTypes('waiting', 'delayed', 'active', 'completed', 'failed');

describe('Bull Board with Basic credentials', () => {
  it('refuses a cross-site POST (Origin of another site), and adds no job', async () => {
    const r = await send('POST', addPath, { authorization: basic, origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/use a Bearer token from scripts/);
    const fetched = await send('POST', addPath, {
      authorization: basic,
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    });
    expect(fetched.status).toBe(403);
    // Same host name, another port or scheme: another origin.
    for (const origin of [`http://127.0.0.1:1`, `https://${host}`, 'null'])
      expect((await send('POST', addPath, { authorization: basic, origin })).status, origin).toBe(403);
    expect(
      (await send('POST', addPath, { authorization: basic, 'sec-fetch-site': 'same-site' })).status,
    ).toBe(403);
    expect(await jobs()).toBe(0);
  });

  it('refuses a POST, PUT or DELETE that says nothing of where it comes from (a script)', async () => {
    const r = await send('POST', addPath, { authorization: basic });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text)).toMatchObject({ statusCode: 403, error: 'FORBIDDEN' });
    expect(r.text).toMatch(/use a Bearer token from scripts/);
    expect(
      (await send('PUT', `/queues/api/queues/${FINALIZE_QUEUE}/pause`, { authorization: basic })).status,
    ).toBe(403);
    expect(await queues.finalize.isPaused()).toBe(false);
    expect(
      (await send('DELETE', `/queues/api/queues/${FINALIZE_QUEUE}/x`, { authorization: basic })).status,
    ).toBe(403);
    expect(await jobs()).toBe(0);
  });

  it('lets a same-origin POST from the board’s own page through (Sec-Fetch-Site, or Origin alone), to a read-only board', async () => {
    const fetched = await send('POST', addPath, {
      authorization: basic,
      origin: base,
      'sec-fetch-site': 'same-origin',
    });
    // Past the gate (no 403): the board itself refuses, as it refuses every action.
    expect(fetched.status).toBe(405);
    // A browser that sends no Sec-Fetch-* (plain http to a host other than localhost): Origin.
    expect((await send('POST', addPath, { authorization: basic, origin: base })).status).toBe(405);
    expect(await jobs()).toBe(0);
  });

  it('answers a wrong password with the Basic prompt, same-origin or not', async () => {
    const wrong = `Basic ${Buffer.from('someone:not-the-token-0123456789').toString('base64')}`;
    const r = await fetch(`${base}${addPath}`, {
      method: 'POST',
      headers: { authorization: wrong, origin: base },
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await jobs()).toBe(0);
  });

  it('takes a GET as before', async () => {
    expect((await send('GET', '/queues', { authorization: basic })).status).toBe(200);
    expect((await send('GET', '/queues/api/queues', { authorization: basic })).status).toBe(200);
    expect(
      (await send('GET', '/queues/api/queues', { authorization: basic, 'sec-fetch-site': 'cross-site' }))
        .status,
    ).toBe(200);
  });
});

describe('Bull Board with a Bearer token', () => {
  it('refuses a POST from a script too: the board is read-only', async () => {
    expect((await send('POST', addPath, { authorization: `Bearer ${token}` })).status).toBe(405);
    expect(await jobs()).toBe(0);
  });
});

// The board's actions bypass the dataset state machine (an emptied write queue left its datasets
// `writing` for ever, their views queued): it only shows; the API acts (retry, cancel, finalize).
describe('a read-only board', () => {
  const bearer = { authorization: `Bearer ${token}` };
  const q = `/queues/api/queues/${FINALIZE_QUEUE}`;

  it('refuses every action that would change a queue or a job, and changes nothing', async () => {
    await queues.finalize.add('finalize', { datasetId: 'd', generation: 1 }, { jobId: 'waiting-job' });
    await queues.finalize.add(
      'finalize',
      { datasetId: 'd', generation: 2 },
      { jobId: 'delayed-job', delay: 3_600_000 },
    );
    const before = await queues.finalize.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
    // As the board's page sends them (bodies valid: refused for being read-only, not malformed).
    const actions: [string, string, object?][] = [
      ['POST', `${q}/add`, { name: 'finalize', data: { datasetId: 'd', generation: 3 } }],
      ['PUT', `${q}/retry/failed`],
      ['PUT', `${q}/promote`],
      ['PUT', `${q}/clean/waiting`],
      ['PUT', `${q}/clean/delayed`],
      ['PUT', `${q}/pause`],
      ['PUT', `${q}/empty`],
      ['PUT', `${q}/obliterate`, { force: true }],
      ['PUT', `${q}/concurrency`, { concurrency: 1 }],
      ['PUT', `${q}/waiting-job/retry`],
      ['PUT', `${q}/waiting-job/clean`],
      ['PUT', `${q}/delayed-job/promote`],
      ['PATCH', `${q}/waiting-job/update-data`, { jobData: { datasetId: 'x', generation: 9 } }],
      ['PATCH', `${q}/delayed-job/delay`, { runAt: Date.now() }],
      ['PATCH', `${q}/waiting-job/priority`, { priority: 1 }],
    ];
    for (const [method, path, body] of actions) {
      const r = await send(method, path, bearer, body);
      expect([method, path, r.status], r.text).toEqual([method, path, 405]);
      expect(r.text).toMatch(/READ_ONLY/);
    }
    // "Pause all" skips read-only queues.
    await send('PUT', '/queues/api/queues/pause', bearer);
    expect(await queues.finalize.isPaused()).toBe(false);
    expect(await queues.finalize.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed')).toEqual(
      before,
    );
    expect(await queues.finalize.getJobState('waiting-job')).toBe('waiting');
    expect(await queues.finalize.getJobState('delayed-job')).toBe('delayed');
  });

  it('still shows the queues and their jobs', async () => {
    await queues.finalize.add('finalize', { datasetId: 'd', generation: 1 }, { jobId: 'shown-job' });
    const listed = await send('GET', '/queues/api/queues?activeQueue=bdv-finalize&status=waiting', bearer);
    expect(listed.status).toBe(200);
    expect(listed.text).toContain('shown-job');
    expect((await send('GET', `${q}/shown-job`, bearer)).status).toBe(200);
  });
});
