import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBeadNpy } from '../support/bead-stacks.js';
import { PYTHON, tempDir } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';
import { waitUntil } from '../support/wait-until.js';

// The API's OpenAPI document held to what the API really answers, on a real cluster (Redis, S3,
// API, a writer and the finalizer): every route is asked for its answers — successes and the
// refusals a facility user meets — and every answer seen must be one its route documents, every
// error body must match the document's ErrorBody schema, and every 4xx must name its field.

const dir = tempDir('bdv-e2e-answers-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let spec: OpenApi;

interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
  components: { schemas: Record<string, Schema> };
}
interface Response {
  description: string;
  content?: Record<string, { schema?: Schema }>;
}
type Schema = Record<string, unknown>;

/** Parsed answer bodies: read field by field, so left untyped on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;
interface Answer {
  status: number;
  body: Body;
  headers: Headers;
}

/** Every answer seen: the operation asked (`GET /v1/datasets/{id}`), its status and body. */
const seen: { operation: string; status: number; body: Body; json: boolean }[] = [];

interface Ask {
  query?: string;
  json?: unknown;
  bytes?: Uint8Array;
  type?: string;
  headers?: Record<string, string>;
  token?: boolean;
}

/** Asks `operation` (method and OpenAPI path), its path parameters filled in from `params`. */
async function ask(operation: string, params: Record<string, string> = {}, init: Ask = {}): Promise<Answer> {
  const [method, template] = operation.split(' ') as [string, string];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]!));
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== false) headers.authorization = `Bearer ${cluster.stack.token}`;
  let body: BodyInit | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = init.type ?? 'application/json';
    body = typeof init.json === 'string' ? init.json : JSON.stringify(init.json);
  } else if (init.bytes) {
    headers['content-type'] = init.type ?? 'application/octet-stream';
    body = init.bytes;
  }
  const url = `${cluster.stack.apiUrl}${path}${init.query ? `?${init.query}` : ''}`;
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json');
  const parsed: Body = json ? JSON.parse(text) : text;
  seen.push({ operation, status: res.status, body: parsed, json });
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Where `value` breaks `schema` (the subset of JSON Schema the ErrorBody uses). */
function breaches(schema: Schema, value: unknown, at = '(body)'): string[] {
  const type = schema.type as string | undefined;
  const is: Record<string, (v: unknown) => boolean> = {
    object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    array: Array.isArray,
    string: (v) => typeof v === 'string',
    integer: Number.isInteger,
  };
  if (type && !is[type]!(value)) return [`${at}: not ${type}`];
  const found: string[] = [];
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) found.push(`${at}: below minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) found.push(`${at}: above maximum`);
  }
  if (type === 'array')
    (value as unknown[]).forEach((v, i) => found.push(...breaches(schema.items as Schema, v, `${at}[${i}]`)));
  if (type === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[])
      if (!(name in object)) found.push(`${at}.${name}: missing`);
    for (const [name, v] of Object.entries(object)) {
      if (properties[name]) found.push(...breaches(properties[name], v, `${at}.${name}`));
      else if (schema.additionalProperties === false) found.push(`${at}.${name}: not in the schema`);
    }
  }
  return found;
}

/** A TIFF of `pages` planes of 30 columns (rows each as given), written by tifffile. */
function tiff(path: string, rows: readonly number[]): void {
  execFileSync(PYTHON, [
    '-c',
    `import numpy as np, tifffile
with tifffile.TiffWriter(${JSON.stringify(path)}) as t:
    for i, r in enumerate(${JSON.stringify(rows)}): t.write(np.full((r, 30), 100 + i, np.uint16))`,
  ]);
}

const SHEET_TILES = 114; // one column more than a 2048 px sheet holds at 16 px a cell

beforeAll(async () => {
  writeBeadNpy(p('a.npy'), [8, 40, 40], [{ z: 2, y: 5, x: 5, size: 4, value: 2000 }]);
  tiff(p('stack.tif'), [30, 30, 30]);
  copyFileSync(p('stack.tif'), p('tiff-bytes.npy')); // a TIFF under a .npy name
  writeFileSync(p('junk.tif'), Buffer.alloc(64, 7)); // neither TIFF nor .npy bytes, named .tif
  tiff(p('flaky.tif'), [30, 30, 20]); // its header checks out; its last page fails the writer
  mkdirSync(p('batch'));
  for (const c of [0, 1])
    writeBeadNpy(p(`batch/t0_c${c}.npy`), [8, 40, 40], [{ z: 1, y: 1, x: 1, size: 3, value: 999 }]);
  cluster = await startTestCluster(dir.path, 1);
  const docs = await fetch(`${cluster.stack.apiUrl}/docs/openapi.json`);
  spec = (await docs.json()) as OpenApi;
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const src = (name: string) => ({ uri: `file://${p(name)}` });
let id = '';

describe('each route answers as its OpenAPI document says', () => {
  it('datasets: register, list, get, and their refusals', async () => {
    const created = await ask('POST /v1/datasets', {}, { json: { name: 'answers', setup: { tiles: 4 } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id as string;
    expect((await ask('POST /v1/datasets', {}, { json: { name: 'ANSWERS' } })).status).toBe(409);
    expect((await ask('POST /v1/datasets', {}, { json: { name: 'answers' } })).status).toBe(409);
    expect((await ask('POST /v1/datasets', {}, { json: { name: 'x', setup: { tiles: 0 } } })).status).toBe(
      400,
    );
    expect((await ask('POST /v1/datasets', {}, { json: '{"name": ', type: 'application/json' })).status).toBe(
      400,
    );
    expect((await ask('POST /v1/datasets', {}, { json: 'name=x', type: 'text/plain' })).status).toBe(415);
    expect(
      (await ask('POST /v1/datasets', {}, { json: { name: 'big', pad: 'x'.repeat(200_000) } })).status,
    ).toBe(413);
    expect((await ask('POST /v1/datasets', {}, { json: { name: 'anon' }, token: false })).status).toBe(401);

    expect((await ask('GET /v1/datasets')).status).toBe(200);
    expect((await ask('GET /v1/datasets', {}, { query: 'limit=0' })).status).toBe(400);
    expect((await ask('GET /v1/datasets/{id}', { id })).status).toBe(200);
    expect((await ask('GET /v1/datasets/{id}', { id: UNKNOWN })).status).toBe(404);
    expect((await ask('GET /v1/datasets/{id}', { id: 'not-an-id' })).status).toBe(404);
    expect((await ask('GET /v1/datasets/{id}', { id }, { query: 'stat=failed' })).status).toBe(400);
  });

  it('views: submit, upload, list, and their refusals', async () => {
    const views = 'POST /v1/datasets/{id}/views';
    expect((await ask(views, { id }, { json: { tile: 0, source: src('a.npy') } })).status).toBe(202);
    expect((await ask(views, { id }, { json: { tile: 0, source: src('a.npy') } })).status).toBe(409);
    expect((await ask(views, { id }, { json: { tile: 9, source: src('a.npy') } })).status).toBe(400);
    expect((await ask(views, { id }, { json: { tile: 3, source: src('missing.npy') } })).status).toBe(400);
    expect((await ask(views, { id: UNKNOWN }, { json: { source: src('a.npy') } })).status).toBe(404);

    const upload = 'PUT /v1/datasets/{id}/views/{viewKey}/data';
    const key = (tile: number) => ({ id, viewKey: `t0-i0-c0-s${tile}-a0` });
    const npy = new Uint8Array(readBytes('a.npy'));
    expect((await ask(upload, key(1), { bytes: new Uint8Array(0) })).status).toBe(400);
    expect((await ask(upload, key(1), { bytes: npy, type: 'text/plain' })).status).toBe(415);
    expect((await ask(upload, key(1), { bytes: concat(npy, new Uint8Array(2)) })).status).toBe(413);
    expect((await ask(upload, key(1), { bytes: npy, query: 'format=gif' })).status).toBe(400);
    expect((await ask(upload, { id: UNKNOWN, viewKey: 't0-i0-c0-s1-a0' }, { bytes: npy })).status).toBe(404);
    expect((await ask(upload, key(1), { bytes: npy })).status).toBe(202);
    expect((await ask(upload, key(1), { bytes: npy })).status).toBe(409);
    expect((await ask(upload, key(1), { bytes: npy, token: false })).status).toBe(401);

    const list = 'GET /v1/datasets/{id}/views';
    expect((await ask(list, { id })).status).toBe(200);
    expect((await ask(list, { id }, { query: 'state=nope' })).status).toBe(400);
    expect((await ask(list, { id: UNKNOWN })).status).toBe(404);
  });

  it('a TIFF read as .npy is said to be a TIFF, naming how to say so', async () => {
    const upload = await ask(
      'PUT /v1/datasets/{id}/views/{viewKey}/data',
      { id, viewKey: 't0-i0-c0-s2-a0' },
      { bytes: new Uint8Array(readBytes('stack.tif')) },
    );
    expect(upload.status).toBe(400);
    expect(upload.body.message).toBe(
      'body: the upload is not a .npy file: its bytes are a TIFF (they start with II*\\0); upload it with ?format=tiff (without ?format an upload is read as .npy)',
    );
    expect(upload.body.details).toEqual([
      { field: 'body', message: expect.stringMatching(/^not a \.npy file: /) },
    ]);

    const views = 'POST /v1/datasets/{id}/views';
    const named = await ask(views, { id }, { json: { tile: 2, source: src('tiff-bytes.npy') } });
    expect([named.status, named.body.message]).toEqual([
      400,
      `source: file://${p('tiff-bytes.npy')}: not a .npy file: its bytes are a TIFF (they start with II*\\0); declare its format "tiff"`,
    ]);
    const junk = await ask(
      views,
      { id },
      { json: { tile: 2, source: { ...src('junk.tif'), format: 'npy' } } },
    );
    expect([junk.status, junk.body.message]).toEqual([
      400,
      `source: file://${p('junk.tif')}: not a .npy file: its name says TIFF (.tif) and its bytes are no .npy; declare its format "tiff"`,
    ]);
    // the same TIFF, declared as one, is taken
    const right = await ask(
      'PUT /v1/datasets/{id}/views/{viewKey}/data',
      { id, viewKey: 't0-i0-c0-s2-a0' },
      { bytes: new Uint8Array(readBytes('stack.tif')), query: 'format=tiff' },
    );
    expect(right.status, JSON.stringify(right.body)).toBe(202);
  });

  it('a view that fails is counted once, and retried', async () => {
    const metric = async (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await ask('GET /metrics')).body as string)?.[1]);
    const failedBefore = await metric('bdv_views_failed_total');
    expect(
      (await ask('POST /v1/datasets/{id}/views', { id }, { json: { tile: 3, source: src('flaky.tif') } }))
        .status,
    ).toBe(202);
    await waitUntil('the flaky view to fail', async () => {
      const d = (await ask('GET /v1/datasets/{id}', { id })).body;
      return d.views.failed === 1 ? true : undefined;
    });
    // its job too has failed for good, and the worker heard of it (it settles the view again)
    await waitUntil('its job to fail', async () =>
      /bdv_jobs\{queue="bdv-write-view",state="failed"\} [1-9]/.test(
        (await ask('GET /metrics')).body as string,
      )
        ? true
        : undefined,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect((await metric('bdv_views_failed_total')) - failedBefore).toBe(1);
    expect((await ask('GET /v1/datasets/{id}', { id })).body.views.failed).toBe(1);

    const retry = 'POST /v1/datasets/{id}/views/{viewKey}/retry';
    expect((await ask(retry, { id, viewKey: 't0-i0-c0-s3-a0' })).status).toBe(202);
    expect((await ask(retry, { id, viewKey: 't0-i0-c0-s0-a0' })).status).toBe(409);
    expect((await ask(retry, { id, viewKey: 't1-i0-c0-s0-a0' })).status).toBe(404);
    expect((await ask(retry, { id, viewKey: 't00-i0-c0-s0-a0' })).status).toBe(400);
    expect((await ask(retry, { id, viewKey: 't0-i0-c0-s0-a0' }, { json: { force: true } })).status).toBe(400);
  });

  it('finalize, the XML and previews', async () => {
    const xml = 'GET /v1/datasets/{id}/xml';
    const notYet = await ask(xml, { id });
    expect([notYet.status, notYet.body.message]).toEqual([404, expect.stringMatching(/has no XML yet/)]);
    const finalize = 'POST /v1/datasets/{id}/finalize';
    expect((await ask(finalize, { id }, { json: { timepoints: 0 } })).status).toBe(400);
    expect((await ask(finalize, { id: UNKNOWN }, { json: {} })).status).toBe(404);
    const empty = (await ask('POST /v1/datasets', {}, { json: { name: 'answers-empty' } })).body.id as string;
    expect((await ask(finalize, { id: empty }, { json: {} })).status).toBe(409);
    expect((await ask(finalize, { id }, { json: {} })).status).toBe(202);
    await waitUntil('the dataset to complete', async () => {
      const d = (await ask('GET /v1/datasets/{id}', { id })).body;
      return d.status === 'complete' ? true : undefined;
    });
    expect((await ask(xml, { id })).status).toBe(200);
    expect(
      (await ask(finalize, { id }, { json: { timepoints: 1, microscope: { name: 'other' } } })).status,
    ).toBe(409);

    const view = 'GET /v1/datasets/{id}/views/{viewKey}/preview.png';
    const png = await ask(view, { id, viewKey: 't0-i0-c0-s0-a0' });
    expect(png.status).toBe(200);
    const etag = { 'if-none-match': png.headers.get('etag')! };
    expect((await ask(view, { id, viewKey: 't0-i0-c0-s0-a0' }, { headers: etag })).status).toBe(304);
    expect((await ask(view, { id, viewKey: 't0-i0-c0-s3-a0' })).status).toBe(409); // failed again
    expect((await ask(view, { id, viewKey: 't1-i0-c0-s0-a0' })).status).toBe(404);
    expect((await ask(view, { id, viewKey: 't0-i0-c0-s0-a0' }, { query: 'size=1' })).status).toBe(400);
    const sheet = 'GET /v1/datasets/{id}/preview.png';
    const first = await waitUntil('a final sheet', async () => {
      const r = await ask(sheet, { id });
      return r.headers.get('etag') ? r : undefined;
    });
    expect(first.status).toBe(200);
    expect(
      (await ask(sheet, { id }, { headers: { 'if-none-match': first.headers.get('etag')! } })).status,
    ).toBe(304);
    expect((await ask(sheet, { id }, { query: 'time=5' })).status).toBe(404);
    expect((await ask(sheet, { id }, { query: 'axis=w' })).status).toBe(400);
  });

  it('a contact sheet too wide to draw is 422', async () => {
    const wide = await ask(
      'POST /v1/datasets',
      {},
      { json: { name: 'answers-wide', setup: { tiles: SHEET_TILES } } },
    );
    const wideId = wide.body.id as string;
    for (let tile = 0; tile < SHEET_TILES; tile++)
      expect(
        (await ask('POST /v1/datasets/{id}/views', { id: wideId }, { json: { tile, source: src('a.npy') } }))
          .status,
      ).toBe(202);
    expect((await ask('GET /v1/datasets/{id}/preview.png', { id: wideId })).status).toBe(422);
    expect([200, 202]).toContain((await ask('DELETE /v1/datasets/{id}', { id: wideId })).status);
  });

  it('cancel: a cancelled dataset never gets its XML (410)', async () => {
    const remove = 'DELETE /v1/datasets/{id}';
    expect((await ask(remove, { id })).status).toBe(409); // complete: only with ?purge=true
    expect((await ask(remove, { id }, { query: 'purge=maybe' })).status).toBe(400);
    expect((await ask(remove, { id: UNKNOWN })).status).toBe(404);
    const other = (await ask('POST /v1/datasets', {}, { json: { name: 'answers-cancel' } })).body
      .id as string;
    expect(
      (await ask('POST /v1/datasets/{id}/views', { id: other }, { json: { source: src('a.npy') } })).status,
    ).toBe(202);
    expect((await ask(remove, { id: other })).status).toBe(200);
    const gone = await ask('GET /v1/datasets/{id}/xml', { id: other });
    expect(gone.status).toBe(410);
    expect(gone.body.message).toMatch(/is cancelled: it never gets an XML/);
    expect(gone.body.message).not.toMatch(/yet/);
    expect((await ask(remove, { id }, { query: 'purge=true' })).status).toBe(200);
    expect((await ask('GET /v1/datasets/{id}/xml', { id })).status).toBe(410);
  });

  it('batches: a dry run is 200 (nothing queued), a batch 202, and their refusals', async () => {
    const body = (extra: Record<string, unknown> = {}) => ({
      source: `file://${p('batch')}/`,
      pattern: 't{time}_c{channel}.npy',
      dataset: { name: 'answers-batch' },
      ...extra,
    });
    const dry = await ask('POST /v1/batches', {}, { json: body({ dryRun: true }) });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, setup: { channels: 2 } });
    const none = await ask('POST /v1/batches', {}, { json: body({ pattern: 'x{time}.npy' }) });
    expect(none.status).toBe(400);
    expect(none.body.details).toEqual([
      { field: 'pattern', message: expect.stringMatching(/^no object under /) },
    ]);
    const batch = await ask('POST /v1/batches', {}, { json: body() });
    expect(batch.status, JSON.stringify(batch.body)).toBe(202);
    expect((await ask('GET /v1/batches/{id}', { id: batch.body.batchId as string })).status).toBe(200);
    expect((await ask('GET /v1/batches/{id}', { id: UNKNOWN })).status).toBe(404);
    const other = await ask('POST /v1/batches', {}, { json: body({ dataset: { name: 'answers-empty' } }) });
    expect(other.status).toBe(409);
  });

  it('the status page, health and metrics', async () => {
    expect((await ask('GET /')).status).toBe(200);
    expect((await ask('GET /', {}, { query: 'limit=0' })).status).toBe(400);
    expect((await ask('GET /', {}, { token: false })).status).toBe(401);
    for (const route of ['GET /health', 'GET /health/ready', 'GET /health/live', 'GET /metrics'])
      expect((await ask(route)).status, route).toBe(200);
    expect((await ask('GET /health/live', {}, { query: 'verbose=1' })).status).toBe(400);
  });
});

describe('the OpenAPI document', () => {
  it('lists every answer seen, for the route it came from', () => {
    const missing = seen
      .filter(({ operation, status }) => {
        const [method, path] = operation.split(' ') as [string, string];
        return !spec.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
      })
      .map(({ operation, status }) => `${operation} ${status}`);
    expect([...new Set(missing)]).toEqual([]);
  });

  it('asked every route it documents', () => {
    const documented = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.filter((operation) => !seen.some((s) => s.operation === operation))).toEqual([]);
  });

  it('describes every answer, and gives every error the common ErrorBody (health its report)', () => {
    const problems: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths))
      for (const [method, { responses }] of Object.entries(methods))
        for (const [status, response] of Object.entries(responses)) {
          const where = `${method.toUpperCase()} ${path} ${status}`;
          if (!response.description) problems.push(`${where}: no description`);
          const health = path.startsWith('/health') && status === '503';
          const schema = response.content?.['application/json']?.schema;
          if (Number(status) >= 400 && !health && schema?.$ref !== '#/components/schemas/ErrorBody')
            problems.push(`${where}: not an ErrorBody`);
        }
    expect(problems).toEqual([]);
  });

  it('holds every error body seen to ErrorBody, and every 4xx names its field', () => {
    const schema = spec.components.schemas.ErrorBody!;
    const errors = seen.filter((s) => s.status >= 400);
    expect(errors.length).toBeGreaterThan(40);
    const problems = errors.flatMap(({ operation, status, body, json }) => {
      const where = `${operation} ${status}`;
      if (!json) return [`${where}: not JSON`];
      const found = breaches(schema, body).map((b) => `${where}: ${b}`);
      if (
        status < 500 &&
        !(body.details?.length > 0 && body.details.every((d: { field: string }) => d.field))
      )
        found.push(`${where}: no details naming the field (${body.message})`);
      if (body.statusCode !== status) found.push(`${where}: statusCode ${body.statusCode}`);
      return found;
    });
    expect(problems).toEqual([]);
  });
});

function readBytes(name: string): Buffer {
  return readFileSync(p(name));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([a, b]));
}
