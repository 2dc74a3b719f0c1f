import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fenceFileOf } from '@bdv-cluster/bdv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { grayPng, writeBeadNpy, type Bead } from '../support/bead-stacks.js';
import { tempDir } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

// Previews against the real cluster: views written by a writer process, PNGs read by the API
// process from the output volume, decoded here — their size, and bright beads where the data
// has them.

const dir = tempDir('bdv-previews-');
let cluster: TestCluster;
let api: ApiClient;
const p = (name: string) => join(dir.path, name);

// 8 x 600 x 640 stacks, pyramid 1,1,1 : 1,2,2 — level 0 projects to 600 x 640 (more than 512),
// level 1 to 300 x 320. Each view has its own bead (12 px cube, 0.6 % of the projection).
const SHAPE: [number, number, number] = [8, 600, 640];
const beadOf = (channel: number, tile: number): Bead[] => {
  const y = 100 + 300 * channel + 20 * tile;
  const x = 80 + 400 * tile;
  // a few cubes in a row, so they cover more than the 0.1 % above the white point
  return [0, 1, 2, 3].map((i) => ({ z: 2 + i, y, x: x + 24 * i, size: 12, value: 20000 + 5000 * channel }));
};
const VIEWS = [0, 1].flatMap((channel) => [0, 1].map((tile) => ({ channel, tile })));

async function convert(name: string, layout: 'single' | 'partitioned'): Promise<string> {
  const created = await api.post('/v1/datasets', {
    name,
    layout,
    setup: { channels: 2, tiles: 2 },
    compression: 'gzip',
    subsamplingZyx: [
      [1, 1, 1],
      [1, 2, 2],
    ],
    blockSizeZyx: [[4, 128, 128]],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  for (const v of VIEWS) {
    const r = await api.post(`/v1/datasets/${id}/views`, {
      ...v,
      source: { uri: `file://${p(`c${v.channel}_s${v.tile}.npy`)}` },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
  }
  expect((await api.post(`/v1/datasets/${id}/finalize`)).status).toBe(202);
  expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('complete');
  return id;
}

async function png(path: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  const res = await fetch(`${cluster.stack.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${cluster.stack.token}`, ...headers },
    signal,
  });
  const body = new Uint8Array(await res.arrayBuffer());
  return { res, body };
}

let single: string;
let partitioned: string;

beforeAll(async () => {
  for (const v of VIEWS) writeBeadNpy(p(`c${v.channel}_s${v.tile}.npy`), SHAPE, beadOf(v.channel, v.tile));
  // a small preview queue, so that the test below fills it with a few requests
  cluster = await startTestCluster(dir.path, 1, { PREVIEW_QUEUE_VIEWS: '8' });
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
  single = await convert('previews-single', 'single');
  partitioned = await convert('previews-partitioned', 'partitioned');
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

describe('GET /v1/datasets/:id/views/:viewKey/preview.png', () => {
  it('is the maximum projection of the level that fits 512 px, with the beads where they are', async () => {
    for (const id of [single, partitioned])
      for (const { channel, tile } of VIEWS) {
        const { res, body } = await png(`/v1/datasets/${id}/views/t0-i0-c${channel}-s${tile}-a0/preview.png`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/png');
        const image = grayPng(body);
        expect([image.width, image.height]).toEqual([320, 300]);
        expect(Math.max(image.width, image.height)).toBeLessThanOrEqual(512);
        expect(image.text['bdv:level']).toBe('1');
        // every bead of this view is white (level 1 halves y and x), its neighbours' are not there
        for (const b of beadOf(channel, tile))
          expect(image.at((b.x + 6) / 2, (b.y + 6) / 2), `${id} c${channel} s${tile}`).toBe(255);
        for (const other of VIEWS.filter((o) => o.channel !== channel || o.tile !== tile))
          expect(
            image.at(
              (beadOf(other.channel, other.tile)[0]!.x + 6) / 2,
              (beadOf(other.channel, other.tile)[0]!.y + 6) / 2,
            ),
          ).toBeLessThan(100);
        // and nothing else is bright: 4 cubes of 6 x 6 px at level 1
        expect(Math.round(image.brightFraction(200) * 320 * 300)).toBe(4 * 36);
      }
  });

  it('shares the image (one read, one cache entry) between sizes of the same level and shrink only', async () => {
    const path = `/v1/datasets/${partitioned}/views/t0-i0-c0-s0-a0/preview.png`;
    const a = await png(`${path}?size=200`); // level 1 (300 x 320), shrink ceil(320 / 200) = 2
    const b = await png(`${path}?size=170`); // shrink ceil(320 / 170) = 2 as well
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    expect([grayPng(a.body).width, grayPng(a.body).height]).toEqual([160, 150]);
    expect(Buffer.from(b.body).equals(Buffer.from(a.body))).toBe(true);
    const c = await png(`${path}?size=110`); // shrink 3: another image, not the cached one
    expect([grayPng(c.body).width, grayPng(c.body).height]).toEqual([107, 100]);
  });

  it('honours size and axis, and answers 304 to a browser that has it', async () => {
    const path = `/v1/datasets/${single}/views/t0-i0-c1-s0-a0/preview.png`;
    const small = grayPng((await png(`${path}?size=100`)).body);
    expect([small.width, small.height]).toEqual([80, 75]); // level 1 shrunk by ceil(320 / 100) = 4 (max of 4 x 4)
    const side = grayPng((await png(`${path}?axis=y`)).body);
    expect([side.width, side.height]).toEqual([320, 8]); // z x x at level 1
    const first = await png(path);
    const etag = first.res.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const again = await png(path, { 'if-none-match': etag });
    expect(again.res.status).toBe(304);
  });

  it('names what is wrong: bad query 400, unknown view or dataset 404', async () => {
    const path = `/v1/datasets/${single}/views/t0-i0-c0-s0-a0/preview.png`;
    for (const [query, field] of [
      ['size=9999', 'query.size'],
      ['size=abc', 'query.size'],
      ['axis=w', 'query.axis'],
      ['colour=red', 'query.colour'],
    ] as const) {
      const r = await api.get(`${path}?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.message, query).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
    }
    expect((await api.get(`/v1/datasets/${single}/views/t0-i0-c5-s0-a0/preview.png`)).status).toBe(404);
    expect((await api.get(`/v1/datasets/00000000-0000-4000-8000-000000000000/preview.png`)).status).toBe(404);
    const open = await api.post('/v1/datasets', { name: 'previews-empty' });
    expect((await api.get(`/v1/datasets/${open.body.id}/preview.png`)).status).toBe(404);
  });
});

describe('preview reads queued in the API', () => {
  /** A writer holding the single file (flock on its fence): each preview read of it waits. */
  const holdSingleFile = () =>
    spawn(
      'flock',
      [
        '--exclusive',
        '--no-fork',
        fenceFileOf(join(cluster.stack.outputDir, 'previews-single', 'previews-single.h5')),
        'sleep',
        '60',
      ],
      { stdio: 'ignore' },
    );

  it('are bounded: beyond PREVIEW_QUEUE_VIEWS (8 here) a preview is 503 at once, and the queued ones finish', async () => {
    const holder = holdSingleFile();
    try {
      await new Promise((r) => setTimeout(r, 300));
      const path = `/v1/datasets/${single}/views/t0-i0-c0-s1-a0/preview.png`;
      // 9 sizes never asked before that shrink level 1 (300 x 320) by 12..20: 9 distinct reads
      const answers = [27, 25, 23, 22, 20, 19, 18, 17, 16].map((size) => png(`${path}?size=${size}`));
      const started = Date.now();
      const first = await Promise.race(answers.map((a) => a.then((r) => r.res.status)));
      // the refused one comes back at once, while the others still wait (5 s) for the file
      expect([first, Date.now() - started < 3000]).toEqual([503, true]);
      holder.kill();
      const all = await Promise.all(answers);
      const statuses = all.map((a) => a.res.status);
      expect(statuses.filter((s) => s === 503)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(8);
      const refused = all.find((a) => a.res.status === 503)!;
      expect(JSON.parse(Buffer.from(refused.body).toString()).message).toMatch(/previews are busy: 8 views/);
    } finally {
      holder.kill();
    }
  });

  it('drops the queued reads of clients that went away, so that the next clients get their place', async () => {
    const holder = holdSingleFile();
    const sizes = [27, 25, 23, 22, 20, 19, 18, 17];
    const ask = (viewKey: string, size: number, signal?: AbortSignal) =>
      png(`/v1/datasets/${single}/views/${viewKey}/preview.png?size=${size}`, {}, signal);
    try {
      await new Promise((r) => setTimeout(r, 300));
      // 8 distinct reads fill the queue (8 views): the first waits for the file, 7 wait behind it
      const leaving = sizes.map(() => new AbortController());
      const left = sizes.map((size, i) =>
        ask('t0-i0-c1-s0-a0', size, leaving[i]!.signal).catch(() => 'gone'),
      );
      await new Promise((r) => setTimeout(r, 500));
      expect((await ask('t0-i0-c1-s0-a0', 16)).res.status).toBe(503); // full
      for (const client of leaving) client.abort(); // a status page closed
      expect(await Promise.all(left)).toEqual(sizes.map(() => 'gone'));
      await new Promise((r) => setTimeout(r, 300));
      // the 7 that never started are dropped: 7 new reads fit beside the one still waiting
      const next = sizes.slice(1).map((size) => ask('t0-i0-c1-s1-a0', size));
      await new Promise((r) => setTimeout(r, 300));
      holder.kill();
      const statuses = (await Promise.all(next)).map((r) => r.res.status);
      expect(statuses).toEqual(sizes.slice(1).map(() => 200));
    } finally {
      holder.kill();
    }
  });
});

describe('GET /v1/datasets/:id/preview.png', () => {
  it('lays the views out by channel (rows) and tile (columns), each bead in its cell', async () => {
    for (const id of [single, partitioned]) {
      const { res, body } = await png(`/v1/datasets/${id}/preview.png`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-bdv-pending')).toBe('0');
      const sheet = grayPng(body);
      // 2 x 2 cells of 256 px and 2 px gaps
      expect([sheet.width, sheet.height]).toEqual([2 + 2 * 258, 2 + 2 * 258]);
      for (const { channel, tile } of VIEWS) {
        // a 320 x 300 projection fitted into 256 px: scale 0.8, centred vertically (240 px high)
        const left = 2 + tile * 258;
        const top = 2 + channel * 258 + 8;
        const bead = beadOf(channel, tile)[1]!;
        expect(
          sheet.at(Math.round(left + ((bead.x + 6) / 2) * 0.8), Math.round(top + ((bead.y + 6) / 2) * 0.8)),
          `c${channel} s${tile}`,
        ).toBeGreaterThan(200);
        expect(sheet.at(left + 128, top + 230)).toBeLessThan(100);
      }
    }
  });

  it('refuses a grid too large to draw, naming it, and the status page says so instead of embedding it', async () => {
    // 200 tiles at one timepoint: cells of 8 px. Queued views are enough (nothing is read).
    writeBeadNpy(p('tiny.npy'), [4, 8, 8], []);
    const created = await api.post('/v1/datasets', { name: 'previews-wide', setup: { tiles: 200 } });
    const id = created.body.id as string;
    for (let tile = 0; tile < 200; tile++)
      expect(
        (await api.post(`/v1/datasets/${id}/views`, { tile, source: { uri: `file://${p('tiny.npy')}` } }))
          .status,
      ).toBe(202);
    const { res, body } = await png(`/v1/datasets/${id}/preview.png`);
    expect(res.status).toBe(422);
    expect(new TextDecoder().decode(body)).toMatch(
      /1 x 200 views needs cells of \d+ px.*preview the views one by one/,
    );
    // once a view is written the page would embed the sheet, were it not too large
    while (!((await api.get(`/v1/datasets/${id}`)).body.views.done > 0))
      await new Promise((r) => setTimeout(r, 200));
    const page = await (
      await fetch(`${cluster.stack.apiUrl}/?limit=100`, {
        headers: { authorization: `Bearer ${cluster.stack.token}` },
      })
    ).text();
    const section = page.slice(page.indexOf(`data-id="${id}"`));
    expect(section.slice(0, section.indexOf('</section>'))).toContain(
      'too many views at one timepoint for a contact sheet',
    );
  });
});
