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

async function send(method: string, path: string, headers: Record<string, string>) {
  const res = await fetch(`${base}${path}`, { method, headers, redirect: 'manual' });
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

  it('takes a same-origin POST from the board’s own page (Sec-Fetch-Site, or Origin alone)', async () => {
    const fetched = await send('POST', addPath, {
      authorization: basic,
      origin: base,
      'sec-fetch-site': 'same-origin',
    });
    expect(fetched.status).toBe(200);
    expect(await jobs()).toBe(1);
    // A browser that sends no Sec-Fetch-* (plain http to a host other than localhost): Origin.
    expect((await send('POST', addPath, { authorization: basic, origin: base })).status).toBe(200);
    expect(await jobs()).toBe(2);
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
  it('takes a POST from a script, as before', async () => {
    expect((await send('POST', addPath, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(await jobs()).toBe(1);
  });
});
