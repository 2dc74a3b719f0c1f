import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/free-port.js';
import { tempDir } from '../../../test/support/oracle.js';

// The built API (`npx tsc -b apps/api` first) on the local Redis, a queue prefix of its own, and
// no S3 (nothing here gets as far as storing bytes): what a security review found it took and
// should have refused, each a 4xx naming the field.

const main = join(import.meta.dirname, '..', 'dist', 'main.js');
const token = 'request-refusals-token-0123456789';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-refusals-${randomBytes(4).toString('hex')}`;
const dir = tempDir('bdv-refusals-');
const sources = tempDir('bdv-refusals-src-');
let api: ChildProcess;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  api = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      OUTPUT_DIR: dir.path,
      API_TOKENS: token,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      S3_ENDPOINT: 'http://127.0.0.1:1',
      FILE_SOURCE_ROOTS: sources.path,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    api.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    api.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    api.once('exit', (code) => reject(new Error(`the API exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`the API did not listen within 30 s: ${out}`)), 30_000);
  });
});

afterAll(async () => {
  api?.kill('SIGKILL');
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  dir.remove();
  sources.remove();
});

interface Answer {
  status: number;
  body: { message?: string; details?: { field: string }[]; id?: string } & Record<string, unknown>;
}

async function send(
  method: string,
  path: string,
  init: { json?: unknown; headers?: Record<string, string>; bytes?: Uint8Array } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...init.headers };
  let body: BodyInit | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.bytes) {
    headers['content-type'] ??= 'application/octet-stream';
    body = init.bytes;
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

const refusal = (a: Answer) => [a.status, a.body.message];

let datasetId = '';
beforeAll(async () => {
  const created = await send('POST', '/v1/datasets', { json: { name: 'refusals', setup: { channels: 18 } } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  datasetId = created.body.id!;
});

const npy = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);

describe('view keys are taken only as the API writes them', () => {
  it('everywhere a key is taken: upload, retry, preview', async () => {
    const wanted = [400, 'view key t00-i0-c17-s0-a0: write it t0-i0-c17-s0-a0'];
    const views = `/v1/datasets/${datasetId}/views`;
    expect(refusal(await send('PUT', `${views}/t00-i0-c17-s0-a0/data`, { bytes: npy }))).toEqual(wanted);
    expect(refusal(await send('POST', `${views}/t00-i0-c17-s0-a0/retry`))).toEqual(wanted);
    expect(refusal(await send('GET', `${views}/t00-i0-c17-s0-a0/preview.png`))).toEqual(wanted);
    const garbage = await send('POST', `${views}/nope/retry`);
    expect([garbage.status, garbage.body.details?.[0]?.field]).toEqual([400, 'viewKey']);
    // a key as written that names no view is still unknown
    expect((await send('POST', `${views}/t0-i0-c17-s0-a0/retry`)).status).toBe(404);
  });
});

describe('an upload', () => {
  const upload = (headers: Record<string, string>) =>
    send('PUT', `/v1/datasets/${datasetId}/views/t0-i0-c0-s0-a0/data`, { bytes: npy, headers });

  it('refuses view metadata that says otherwise than its key, or names a source', async () => {
    const time = await upload({ 'x-bdv-view-metadata': JSON.stringify({ time: 5, channel: 0 }) });
    expect(time.status).toBe(400);
    expect(time.body.message).toMatch(
      /^X-BDV-View-Metadata\.time: 5 differs from the view key t0-i0-c0-s0-a0 \(time 0\)/,
    );
    expect(time.body.details?.map((d) => d.field)).toEqual(['X-BDV-View-Metadata.time']);
    const source = await upload({
      'x-bdv-view-metadata': JSON.stringify({ source: { uri: 's3://raw/x.npy' } }),
    });
    expect(source.status).toBe(400);
    expect(source.body.message).toMatch(
      /^X-BDV-View-Metadata\.source: not taken for an upload: its bytes are the source/,
    );
    const array = await upload({ 'x-bdv-view-metadata': '[1]' });
    expect(refusal(array)).toEqual([400, 'X-BDV-View-Metadata: must be a JSON object of view metadata']);
    // Its own problems are named by the header too (the body is the stack, not JSON).
    const unknown = await upload({ 'x-bdv-view-metadata': JSON.stringify({ voxelSize: [1, 1, 1] }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toEqual([
      { field: 'X-BDV-View-Metadata', message: expect.stringMatching(/voxelSize/) },
    ]);
    const small = await upload({ 'x-bdv-view-metadata': JSON.stringify({ voxelSizeXyz: [0, 1, 1] }) });
    expect(small.body.details?.map((d) => d.field)).toEqual(['X-BDV-View-Metadata.voxelSizeXyz[0]']);
  });

  it('refuses a Content-Encoding (415): its bytes are stored and read as they are', async () => {
    for (const encoding of ['gzip', 'br', 'identity, gzip'])
      expect(refusal(await upload({ 'content-encoding': encoding })), encoding).toEqual([
        415,
        `Content-Encoding ${encoding} is not taken for uploads; send the bytes as they are`,
      ]);
  });

  it('names a query parameter it does not take', async () => {
    const r = await send('PUT', `/v1/datasets/${datasetId}/views/t0-i0-c0-s0-a0/data?fromat=raw`, {
      bytes: npy,
    });
    expect(refusal(r)).toEqual([
      400,
      'query.fromat: unknown parameter (allowed: format, shapeZyx, dtype, byteOrder, headerBytes)',
    ]);
  });
});

describe('request bodies', () => {
  it('refuse a control character in a file:// source, and a voxel size out of range', async () => {
    writeFileSync(join(sources.path, 't0.npy'), npy);
    const views = `/v1/datasets/${datasetId}/views`;
    const nul = await send('POST', views, {
      json: { source: { uri: `file://${sources.path}/t0.npy%00.png` } },
    });
    expect(refusal(nul)).toEqual([400, 'source.uri: contains a control character (%00)']);
    const tiny = await send('POST', views, {
      json: { source: { uri: `file://${sources.path}/t0.npy` }, voxelSizeXyz: [1e-320, 1, 1] },
    });
    expect(refusal(tiny)).toEqual([400, 'voxelSizeXyz[0]: must be 1e-9..1e9 in any unit']);
  });

  it('refuse dataset names a shell reads as options, or only dots', async () => {
    for (const [name, message] of [
      ['-rf', 'name: must not start with - (scripts would read it as an option)'],
      ['...', 'name: must not be only dots'],
    ])
      expect(refusal(await send('POST', '/v1/datasets', { json: { name } })), name).toEqual([400, message]);
  });
});

describe('every route refuses what it would ignore', () => {
  it('query parameters it does not take, naming them (a cache-buster _ on GETs aside)', async () => {
    const id = datasetId;
    const stat = await send('GET', `/v1/datasets/${id}/views?stat=failed`);
    expect(refusal(stat)).toEqual([400, 'query.stat: unknown parameter (allowed: state, limit, after)']);
    const dry = await send('POST', '/v1/datasets?dryRun=true', { json: { name: 'dry-run' } });
    expect(refusal(dry)).toEqual([400, 'query.dryRun: unknown parameter (this route takes none)']);
    const listed = await send('GET', '/v1/datasets');
    expect((listed.body as unknown as { name: string }[]).map((d) => d.name)).not.toContain('dry-run');
    const two = await send('GET', `/v1/datasets/${id}?a=1&b=2`);
    expect([two.status, two.body.details?.map((d) => d.field)]).toEqual([400, ['query.a', 'query.b']]);
    for (const path of [
      `/v1/datasets?sort=name`,
      `/v1/datasets/${id}/xml?x=1`,
      `/v1/batches/${id}?x=1`,
      `/health/live?x=1`,
      `/metrics?x=1`,
      `/v1/datasets/${id}/preview.png?x=1`,
      `/?x=1`,
    ])
      expect((await send('GET', path)).status, path).toBe(400);
    expect((await send('POST', `/v1/datasets/${id}/finalize?force=1`)).status).toBe(400);
    expect((await send('POST', `/v1/datasets/${id}/views?x=1`, { json: {} })).status).toBe(400);
    // _ is a GET's cache-buster, kept wherever a GET is answered
    expect((await send('GET', `/v1/datasets/${id}/views?_=123`)).status).toBe(200);
    expect((await send('GET', `/v1/datasets/${id}?_=1`)).status).toBe(200);
    expect((await send('GET', `/v1/datasets?_=1&limit=5`)).status).toBe(200);
    expect((await send('GET', `/health/live?_=1`)).status).toBe(200);
    expect((await send('GET', `/?_=1`)).status).toBe(200);
    expect((await send('POST', `/v1/datasets/${id}/views/t0-i0-c0-s0-a0/retry?_=1`)).status).toBe(400);
  });

  it('a body on a route that takes none ({} is none)', async () => {
    const retry = `/v1/datasets/${datasetId}/views/t0-i0-c3-s0-a0/retry`;
    expect(refusal(await send('POST', retry, { json: { force: true } }))).toEqual([
      400,
      'body: this route takes no body, and would ignore it: send none',
    ]);
    expect((await send('POST', retry, { json: [] })).status).toBe(400);
    expect((await send('POST', retry, { json: {} })).status).toBe(404); // the view does not exist
    expect((await send('POST', retry)).status).toBe(404);
    // (fetch sends no GET body): a DELETE's options are its query
    const missing = '/v1/datasets/00000000-0000-4000-8000-000000000000';
    expect((await send('DELETE', missing, { json: { purge: true } })).status).toBe(400);
  });
});
