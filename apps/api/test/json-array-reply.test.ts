import express from 'express';
import type { AddressInfo } from 'node:net';
import { get } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJsonArray } from '../src/common/json-array-reply.js';

// The views listing is written batch by batch (apps/api/src/common/json-array-reply.ts); here a
// real Express server answers with it and a real HTTP client reads what goes over the wire.

interface Walk {
  batches: number[][];
  failAt?: number;
  slowMs?: number;
  stalledMs?: number;
  headers?: Record<string, string>;
  read: number;
  returned: boolean;
}
const walks = new Map<string, Walk>();

async function* batchesOf(walk: Walk): AsyncGenerator<number[]> {
  try {
    for (let i = 0; i < walk.batches.length; i++) {
      if (walk.slowMs) await new Promise((r) => setTimeout(r, walk.slowMs));
      if (walk.failAt === i) throw new Error('redis went away');
      walk.read++;
      yield walk.batches[i]!;
    }
  } finally {
    walk.returned = true;
  }
}

let base = '';
let server: ReturnType<ReturnType<typeof express>['listen']>;
beforeAll(async () => {
  const app = express();
  app.get('/:name', (req, res) => {
    const walk = walks.get(req.params.name)!;
    const listeners = () =>
      res.listenerCount('close') + res.listenerCount('drain') + res.listenerCount('error');
    const before = listeners();
    sendJsonArray(res, batchesOf(walk), (n) => ({ n, half: n % 2 ? undefined : n / 2 }), {
      stalledMs: walk.stalledMs,
      headers: walk.headers,
    }).then(
      () => (walk.listenersLeft = listeners() - before),
      (error: Error) => res.status(503).json({ error: error.message }),
    );
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

function walk(name: string, w: Partial<Walk> & { batches: number[][] }): Walk {
  const full = { read: 0, returned: false, ...w };
  walks.set(name, full);
  return full;
}

describe('a JSON array sent batch by batch', () => {
  it('is byte for byte what res.json() sends for the whole array, empty batches and all', async () => {
    const batches = [[1, 2, 3], [], [4], [5, 6, 7, 8, 9, 10]];
    walk('many', { batches });
    const r = await fetch(`${base}/many`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const whole = batches.flat().map((n) => ({ n, half: n % 2 ? undefined : n / 2 }));
    expect(await r.text()).toBe(JSON.stringify(whole));
    // ~17 MB: the socket pushes back many times; no waiting leaves a listener behind.
    const big = [...Array(20_000)].map((_, i) => i);
    const pushed = walk('big', { batches: [...Array(50)].map(() => big) });
    const text = await (await fetch(`${base}/big`)).text();
    expect(text.length).toBeGreaterThan(15e6);
    expect(JSON.parse(text)).toHaveLength(1_000_000);
    for (let i = 0; i < 100 && pushed.listenersLeft === undefined; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(pushed.listenersLeft).toBeLessThanOrEqual(1); // its own 'close' flag, gone at close
    walk('none', { batches: [] });
    expect(await (await fetch(`${base}/none`)).text()).toBe('[]');
  });

  it('carries its own headers (a next page Link) only on the reply that carries the array', async () => {
    const link = '</next?after=3>; rel="next"';
    walk('linked', { batches: [[1, 2, 3]], headers: { Link: link } });
    const r = await fetch(`${base}/linked`);
    expect([r.status, r.headers.get('link'), await r.text()]).toEqual([
      200,
      link,
      JSON.stringify([1, 2, 3].map((n) => ({ n, half: n % 2 ? undefined : n / 2 }))),
    ]);
  });

  it('is an ordinary error reply when the first batch cannot be read', async () => {
    walk('first', { batches: [[1]], failAt: 0, headers: { Link: '</next>; rel="next"' } });
    const r = await fetch(`${base}/first`);
    expect(r.status).toBe(503);
    expect(r.headers.get('link')).toBeNull();
    expect(await r.json()).toEqual({ error: 'redis went away' });
  });

  it('cuts the connection when a later batch fails: never a short array that parses', async () => {
    walk('later', { batches: [[1, 2], [3], [4]], failAt: 2 });
    // The status line may or may not have left before the cut: either way no body is whole.
    const outcome = await fetch(`${base}/later`)
      .then((r) => r.text())
      .then(
        (text) => `whole: ${text}`,
        () => 'cut',
      );
    expect(outcome).toBe('cut');
  });

  it('stops reading when the client goes away', async () => {
    // Batches large enough to fill the socket's buffers, read slowly; the client leaves early.
    const big = [...Array(20_000)].map((_, i) => i);
    const w = walk('gone', { batches: [...Array(400)].map(() => big), slowMs: 2 });
    await new Promise<void>((resolve, reject) => {
      const req = get(`${base}/gone`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no data')), 5000);
    });
    for (let i = 0; i < 100 && !w.returned; i++) await new Promise((r) => setTimeout(r, 20));
    expect(w.returned).toBe(true);
    expect(w.read).toBeLessThan(400);
  });

  it('stops reading when the client leaves before the first byte, or queued behind another request', async () => {
    const slow = walk('early', { batches: [[1], [2]], slowMs: 300 });
    const req = get(`${base}/early`);
    req.on('error', () => undefined);
    setTimeout(() => req.destroy(), 50);
    // Pipelined: the second request's reply waits for the first; the client leaves meanwhile.
    const first = walk('p1', { batches: [[1], [2], [3]], slowMs: 200 });
    const second = walk('p2', { batches: [[4], [5]] });
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n');
    setTimeout(() => socket.destroy(), 100);
    for (let i = 0; i < 100 && !(slow.returned && first.returned && second.returned); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect([slow.returned, first.returned, second.returned]).toEqual([true, true, true]);
    expect(slow.read).toBeLessThanOrEqual(1);
  });

  it('gives up a client that takes nothing for the stall time', async () => {
    const big = [...Array(20_000)].map((_, i) => i);
    const w = walk('stalled', { batches: [...Array(400)].map(() => big), stalledMs: 300 });
    // Reads nothing: the server's writes back up until the stall time runs out. (The client
    // would see the close only after the bytes it never reads, so the server's side is checked.)
    const req = get(`${base}/stalled`, (res) => res.pause());
    req.on('error', () => undefined);
    for (let i = 0; i < 150 && !w.returned; i++) await new Promise((r) => setTimeout(r, 20));
    req.destroy();
    expect(w.returned).toBe(true);
    expect(w.read).toBeLessThan(400);
  });

  it('answers HEAD with the headers alone, without walking the list', async () => {
    const w = walk('head', { batches: [[1], [2], [3]] });
    const r = await fetch(`${base}/head`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    for (let i = 0; i < 50 && !w.returned; i++) await new Promise((r) => setTimeout(r, 20));
    expect(w.read).toBe(1);
  });
});
