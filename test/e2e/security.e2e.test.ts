import { npyHeader } from '@bdv-cluster/stacks';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

// Who may ask what, against the real API process: the route matrix, Basic only under /queues and
// for GET/HEAD of the status page and its preview images,
// JSON-only bodies, bounded lists, case-insensitive names, finalize after complete, start-up
// refusal of short tokens, and no server paths in answers.

const dir = tempDir('bdv-security-');
let cluster: TestCluster;
let api: ApiClient;
let base: string;
let datasetId: string;

beforeAll(async () => {
  cluster = await startTestCluster(dir.path, 1);
  base = cluster.stack.apiUrl;
  api = new ApiClient(base, cluster.stack.token);
  const created = await api.post('/v1/datasets', { name: 'security-matrix' });
  expect(created.status).toBe(201);
  datasetId = created.body.id;
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(
  method: string,
  path: string,
  { auth, type, body }: { auth?: string; type?: string; body?: string | Uint8Array } = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(auth ? { authorization: auth } : {}), ...(type ? { 'content-type': type } : {}) },
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A tiny valid .npy stack in the allowed folder. */
function stackFile(): string {
  const path = join(dir.path, 'tiny.npy');
  const header = npyHeader([2, 4, 4]);
  writeFileSync(path, Buffer.concat([header, Buffer.alloc(2 * 4 * 4 * 2, 7)]));
  return path;
}

const bearer = () => `Bearer ${cluster.stack.token}`;
const basic = (password: string) => `Basic ${Buffer.from(`someone:${password}`).toString('base64')}`;

/** Documented public: exact paths, nothing else. */
const PUBLIC = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

/** Browser reads that also take Basic credentials: GET of the status page and its preview images. */
const BASIC_READ = /^GET (\/|\/v1\/datasets\/[^/]+\/(views\/[^/]+\/)?preview\.png)$/;

interface Route {
  method: string;
  path: string;
}

/** Every route the API documents (its own OpenAPI document), with real ids filled in. */
async function documentedRoutes(): Promise<Route[]> {
  const doc = await send('GET', '/docs/openapi.json');
  expect(doc.status).toBe(200);
  const paths = (JSON.parse(doc.text) as { paths: Record<string, Record<string, unknown>> }).paths;
  return Object.entries(paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({
      method: method.toUpperCase(),
      path: path
        .replace('{id}', datasetId)
        .replace('{viewKey}', 't0-i0-c0-s0-a0')
        .replace(/\{[^}]+\}/g, 'x'),
    })),
  );
}

/** A body that the route would accept, so a request that slips past the gate would do something. */
function bodyOf(route: Route): { type?: string; body?: string | Uint8Array } {
  if (route.method === 'PUT') return { type: 'application/octet-stream', body: new Uint8Array(64) };
  if (route.method !== 'POST') return {};
  const json = route.path.endsWith('/datasets')
    ? { name: `matrix-${Math.random().toString(36).slice(2)}` }
    : route.path.endsWith('/batches')
      ? { source: 's3://raw/none/', pattern: 't{time}.npy', dataset: { name: 'matrix-batch' } }
      : {};
  return { type: 'application/json', body: JSON.stringify(json) };
}

/** Case and trailing-slash spellings of a path that Express would have routed to it. */
function variants(path: string): string[] {
  return [
    path.replace('/v1/', '/V1/'),
    path.toUpperCase(),
    path.replace(/^\/(\w)/, (_m, c: string) => `/${c.toUpperCase()}`),
    `${path}/`,
  ].filter((v, i, all) => v !== path && all.indexOf(v) === i);
}

describe('route matrix: every route × {no token, wrong token, Basic, other spellings}', () => {
  it('answers 401 everywhere except the documented public paths', async () => {
    const routes = await documentedRoutes();
    // The matrix covers the routes that matter (it would be vacuous on an empty document).
    expect(routes.map((r) => `${r.method} ${r.path.replace(datasetId, ':id')}`)).toEqual(
      expect.arrayContaining([
        'GET /v1/datasets',
        'POST /v1/datasets',
        'GET /v1/datasets/:id',
        'POST /v1/datasets/:id/views',
        'PUT /v1/datasets/:id/views/t0-i0-c0-s0-a0/data',
        'POST /v1/datasets/:id/finalize',
        'POST /v1/batches',
        'GET /v1/batches/:id',
        'GET /health/live',
        'GET /metrics',
        'GET /',
        'GET /v1/datasets/:id/preview.png',
        'GET /v1/datasets/:id/views/t0-i0-c0-s0-a0/preview.png',
      ]),
    );
    const failures: string[] = [];
    const expectStatus = (what: string, got: Answer, want: number) => {
      if (got.status !== want) failures.push(`${what}: ${got.status}, expected ${want}`);
    };
    for (const route of routes) {
      const label = `${route.method} ${route.path}`;
      const body = bodyOf(route);
      if (PUBLIC.has(route.path)) {
        expect((await send(route.method, route.path)).status, label).toBeLessThan(400);
      } else {
        expectStatus(`${label} (no token)`, await send(route.method, route.path, body), 401);
        expectStatus(
          `${label} (wrong token)`,
          await send(route.method, route.path, { ...body, auth: 'Bearer not-the-token-0123456789' }),
          401,
        );
        const withBasic = await send(route.method, route.path, { ...body, auth: basic(cluster.stack.token) });
        if (BASIC_READ.test(label)) {
          // passes the gate: the route answers (the dataset has no views: 404 / 409 for previews)
          if (withBasic.status === 401) failures.push(`${label} (Basic): 401, expected the route's answer`);
        } else expectStatus(`${label} (Basic)`, withBasic, 401);
      }
      for (const variant of variants(route.path)) {
        expectStatus(`${route.method} ${variant} (no token)`, await send(route.method, variant, body), 401);
        // With a token the spelling is simply not a route (case-sensitive, strict routing).
        expectStatus(
          `${route.method} ${variant} (token)`,
          await send(route.method, variant, { auth: bearer() }),
          404,
        );
      }
    }
    expect(failures).toEqual([]);
    // Nothing slipped through: the datasets POSTed above without a valid token do not exist.
    const listed = (await api.get('/v1/datasets')).body as { name: string }[];
    expect(listed.map((d) => d.name)).toEqual(['security-matrix']);
  });

  it('denies paths that are no route, and answers 401 with a Bearer challenge', async () => {
    for (const path of ['/', '/v1', '/v2/datasets', '/HEALTH', '/Metrics', '/docs/../v1/datasets']) {
      const r = await send('GET', path);
      expect(r.status, path).toBe(401);
    }
    const r = await send('GET', '/v1/datasets');
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(JSON.parse(r.text)).toEqual({
      statusCode: 401,
      error: 'UNAUTHORIZED',
      message: expect.stringContaining('bearer token'),
      details: [{ field: 'Authorization', message: expect.stringContaining('bearer token') }],
    });
  });

  it('serves the OpenAPI documents and Swagger UI without a token', async () => {
    for (const path of ['/docs', '/docs/openapi.json', '/docs/openapi.yaml', '/docs/swagger-ui-bundle.js'])
      expect((await send('GET', path)).status, path).toBe(200);
  });

  it('takes Basic credentials for GET/HEAD of the status page and its previews, never for other methods', async () => {
    const pages = [
      '/',
      `/v1/datasets/${datasetId}/preview.png`,
      `/v1/datasets/${datasetId}/views/t0-i0-c0-s0-a0/preview.png`,
    ];
    for (const path of pages) {
      const anonymous = await send('GET', path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), path).toMatch(/^Basic/);
      for (const method of ['GET', 'HEAD'])
        expect(
          (await send(method, path, { auth: basic(cluster.stack.token) })).status,
          `${method} ${path}`,
        ).not.toBe(401);
      expect((await send('GET', path, { auth: basic('not-the-token-0123456789') })).status, path).toBe(401);
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const r = await send(method, path, {
          auth: basic(cluster.stack.token),
          type: 'application/json',
          body: '{}',
        });
        expect(r.status, `${method} ${path}`).toBe(401);
        expect(r.headers.get('www-authenticate'), `${method} ${path}`).toMatch(/^Bearer/);
      }
    }
    expect((await send('GET', '/', { auth: basic(cluster.stack.token) })).status).toBe(200);
    // the JSON next to them does not
    for (const path of [
      `/v1/datasets/${datasetId}`,
      `/v1/datasets/${datasetId}/views`,
      `/v1/datasets/${datasetId}/xml`,
    ])
      expect((await send('GET', path, { auth: basic(cluster.stack.token) })).status, path).toBe(401);
  });

  it('takes Basic credentials under /queues only (and Bearer there too)', async () => {
    const anonymous = await send('GET', '/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await send('GET', '/queues', { auth: basic(cluster.stack.token) })).status).toBe(200);
    expect((await send('GET', '/queues', { auth: bearer() })).status).toBe(200);
    expect((await send('GET', '/queues', { auth: basic('not-the-token-0123456789') })).status).toBe(401);
    expect((await send('GET', '/QUEUES', { auth: basic(cluster.stack.token) })).status).toBe(401);
    expect((await send('GET', '/v1/datasets', { auth: basic(cluster.stack.token) })).status).toBe(401);
  });

  it('does not say what it runs on', async () => {
    for (const path of ['/health/live', '/v1/datasets'])
      expect((await send('GET', path, { auth: bearer() })).headers.get('x-powered-by'), path).toBeNull();
  });
});

describe('request bodies', () => {
  it('takes JSON bodies only: a form or text body is 415 and creates nothing', async () => {
    const form = await send('POST', '/v1/datasets', {
      auth: bearer(),
      type: 'application/x-www-form-urlencoded',
      body: 'name=from-a-form',
    });
    expect(form.status).toBe(415);
    expect(JSON.parse(form.text)).toMatchObject({ statusCode: 415, error: 'UNSUPPORTED_MEDIA_TYPE' });
    const text = await send('POST', '/v1/datasets', {
      auth: bearer(),
      type: 'text/plain',
      body: JSON.stringify({ name: 'from-text' }),
    });
    expect(text.status).toBe(415);
    const multipart = await send('POST', `/v1/datasets/${datasetId}/finalize`, {
      auth: bearer(),
      type: 'multipart/form-data; boundary=x',
      body: '--x\r\nContent-Disposition: form-data; name="timepoints"\r\n\r\n3\r\n--x--\r\n',
    });
    expect(multipart.status).toBe(415);
    const names = ((await api.get('/v1/datasets')).body as { name: string }[]).map((d) => d.name);
    expect(names).not.toContain('from-a-form');
    expect(names).not.toContain('from-text');
  });

  it('takes uploads as application/octet-stream only (415), never empty (400)', async () => {
    const path = `/v1/datasets/${datasetId}/views/t0-i0-c0-s0-a0/data`;
    for (const type of ['application/x-www-form-urlencoded', 'application/json', 'text/plain']) {
      const r = await send('PUT', path, { auth: bearer(), type, body: 'x'.repeat(200) });
      expect(r.status, type).toBe(415);
    }
    expect((await send('PUT', path, { auth: bearer(), body: new Uint8Array(200) })).status).toBe(415);
    const empty = await send('PUT', path, { auth: bearer(), type: 'application/octet-stream', body: '' });
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text).message).toMatch(/body: empty/);
    expect((await api.get(`/v1/datasets/${datasetId}`)).body.views).toEqual({
      queued: 0,
      running: 0,
      done: 0,
      failed: 0,
    });
  });
});

describe('bounds and names', () => {
  it('bounds the dataset list: offset 0..10^6, limit 1..1000, anything else 400', async () => {
    for (const query of [
      'limit=-1',
      'limit=0',
      'limit=1001',
      'limit=abc',
      'limit=1e3',
      'offset=-1',
      'offset=x',
    ]) {
      const r = await api.get(`/v1/datasets?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.message, query).toMatch(/^query\.(limit|offset): /);
    }
    expect((await api.get('/v1/datasets?limit=1000&offset=0')).status).toBe(200);
  });

  it('refuses a name that differs only in letter case (one file on a case-insensitive volume)', async () => {
    const first = await api.post('/v1/datasets', { name: 'Case-Run1' });
    expect(first.status).toBe(201);
    expect(first.body.name).toBe('Case-Run1');
    for (const name of ['case-run1', 'CASE-RUN1']) {
      const again = await api.post('/v1/datasets', { name });
      expect(again.status, name).toBe(409);
      expect(again.body.message).toMatch(/differs only in letter case from dataset Case-Run1/);
    }
  });

  it('answers 409 to finalize options that would change a complete dataset', async () => {
    const created = await api.post('/v1/datasets', { name: 'finalized-once' });
    const id = created.body.id as string;
    const view = await api.post(`/v1/datasets/${id}/views`, { source: { uri: `file://${stackFile()}` } });
    expect(view.status, JSON.stringify(view.body)).toBe(202);
    expect((await api.post(`/v1/datasets/${id}/finalize`, { timepoints: 1 })).status).toBe(202);
    expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('complete');
    const changed = await api.post(`/v1/datasets/${id}/finalize`, { timepoints: 5, camera: 'other' });
    expect(changed.status).toBe(409);
    expect(changed.body.message).toMatch(/is complete/);
    expect(changed.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'camera',
      'timepoints',
    ]);
    // The same options (or none) change nothing and are fine.
    expect((await api.post(`/v1/datasets/${id}/finalize`, { timepoints: 1 })).status).toBe(202);
    expect((await api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(202);
    const after = (await api.get(`/v1/datasets/${id}`)).body;
    expect(after.status).toBe('complete');
  });

  it('never names a server folder in an answer', async () => {
    const r = await api.post(`/v1/datasets/${datasetId}/views`, { source: { uri: 'file:///etc/passwd' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/outside the allowed folders/);
    expect(JSON.stringify(r.body)).not.toContain(dir.path);
  });
});

describe('start-up', () => {
  /** Starts an API process with `tokens`: its exit code, or 'running' once it answers. */
  async function startApi(tokens: string): Promise<{ code: number | 'running'; stderr: string }> {
    const port = await freePort();
    const child = spawn(process.execPath, ['apps/api/dist/main.js'], {
      env: {
        ...cluster.stack.env,
        API_TOKENS: tokens,
        PORT: String(port),
        QUEUE_PREFIX: `${cluster.prefix}-up`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let gone = false;
    const exited = new Promise<number>((done) =>
      child.once('exit', (c) => {
        gone = true;
        done(c ?? 1);
      }),
    );
    const answers = async (): Promise<'running' | 'timeout'> => {
      for (let i = 0; i < 150 && !gone; i++) {
        if ((await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.ok)
          return 'running';
        await new Promise((r) => setTimeout(r, 200));
      }
      return 'timeout';
    };
    const code = await Promise.race([exited, answers()]);
    if (typeof code === 'number') return { code, stderr };
    child.kill('SIGKILL');
    await exited;
    if (code === 'timeout') throw new Error(`the API neither exited nor answered: ${stderr}`);
    return { code, stderr };
  }

  it('refuses tokens shorter than 16 characters, and splits API_TOKENS on "," only', async () => {
    const short = await startApi('long-enough-token-01,short-token');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/API_TOKENS: every token must be at least 16 characters/);
    expect(short.stderr).not.toContain('short-token');
    // "a:b" is one token (a colon is no separator), so a 16+ character token with a colon starts.
    const colon = await startApi('abcdefgh:ijklmnopq');
    expect(colon.code).toBe('running');
  });
});
