import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { comparePixels, describeBdv, makeStacks, PYTHON, tempDir, type XmlNode } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

const dir = tempDir('bdv-e2e-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let api: ApiClient;
let s3: S3Client;

const SUBSAMPLING = [
  [1, 1, 1],
  [2, 2, 2],
  [4, 4, 4],
];
const VIEWS: { time: number; channel: number; tile: number }[] = [];
for (const time of [0, 1])
  for (const channel of [0, 1]) for (const tile of [0, 1]) VIEWS.push({ time, channel, tile });
const file = (v: { time: number; channel: number; tile: number }) =>
  `t${v.time}_c${v.channel}_s${v.tile}.npy`;

beforeAll(async () => {
  makeStacks(dir.path, [
    ...VIEWS.map((v, i) => ({
      path: p(file(v)),
      shape: v.tile === 0 ? [10, 70, 50] : [9, 40, 66],
      seed: 100 + i,
    })),
    { path: p('other.npy'), shape: [6, 30, 30], seed: 7 },
    { path: p('large.npy'), shape: [96, 512, 512], seed: 8 },
  ]);
  // Corrupt where only reading the pixels shows it (a short .npy is refused at submit now): its
  // header and first page promise 30x30 planes, the last page is 20x30.
  execFileSync(PYTHON, [
    '-c',
    `import numpy as np, tifffile
with tifffile.TiffWriter(${JSON.stringify(p('corrupt.tif'))}) as t:
    for rows in (30, 30, 20): t.write(np.zeros((rows, 30), np.uint16))`,
  ]);
  cluster = await startTestCluster(dir.path, 2);
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
  s3 = cluster.s3();
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

const datasetBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  setup: { channels: 2, tiles: 2 },
  compression: 'gzip',
  subsamplingZyx: SUBSAMPLING,
  blockSizeZyx: [[4, 32, 32]],
  attributeLabels: { channel: ['488', '561'] },
  microscope: { name: 'e2e scope', version: '1', user: 'ci' },
  ...extra,
});
const viewMeta = (v: { time: number; channel: number; tile: number }) => ({
  voxelSizeXyz: [0.5, 0.5, 2],
  voxelUnits: 'um',
  calibrationXyz: [1, 1, 4],
  affine: [1, 0, 0, 45.5 * v.tile, 0, 1, 0, 0, 0, 0, 1, 0],
  cameraName: 'cam',
});

/** Structural comparison of two parsed XML trees, ignoring the h5 file name. */
function sameXml(a: XmlNode, b: XmlNode, path = ''): string[] {
  const here = `${path}/${a.tag}`;
  const diffs: string[] = [];
  if (a.tag !== b.tag) return [`${here}: <${a.tag}> vs <${b.tag}>`];
  if (JSON.stringify(a.attrib) !== JSON.stringify(b.attrib)) diffs.push(`${here}: attributes differ`);
  const numeric = (t: string) => t.split(/\s+/).map(Number);
  if (a.tag !== 'hdf5' && a.text !== b.text && numeric(a.text).join() !== numeric(b.text).join())
    diffs.push(`${here}: "${a.text}" vs "${b.text}"`);
  if (a.children.length !== b.children.length)
    return [...diffs, `${here}: ${a.children.length} vs ${b.children.length} children`];
  a.children.forEach((c, i) => diffs.push(...sameXml(c, b.children[i]!, here)));
  return diffs;
}

describe('cluster end to end', () => {
  it('refuses requests without a token', async () => {
    const anonymous = new ApiClient(cluster.stack.apiUrl);
    const r = await anonymous.get('/v1/datasets');
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ statusCode: 401, message: expect.stringContaining('bearer token') });
  });

  it('converts 2 timepoints x 2 channels x 2 tiles (S3 URIs + uploads, 2 writers, gzip, 3 levels) like bdv convert', async () => {
    // the main dataset in one file (as the local run below writes it); the second one in the
    // cluster's default layout
    const created = await api.post('/v1/datasets', datasetBody('e2e-main', { layout: 'single' }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api.post('/v1/datasets', datasetBody('e2e-main'))).status).toBe(409);

    // a second dataset at the same time, no layout named: partitioned (ADR 009)
    const second = await api.post('/v1/datasets', datasetBody('e2e-second', { compression: 'none' }));
    expect(second.status).toBe(201);
    expect(second.body.spec.layout).toBe('partitioned');

    for (const [i, v] of VIEWS.entries()) {
      if (i % 2 === 0) {
        await s3.send(
          new PutObjectCommand({ Bucket: 'raw', Key: `acq/${file(v)}`, Body: readFileSync(p(file(v))) }),
        );
        const r = await api.post(`/v1/datasets/${id}/views`, {
          ...v,
          source: { uri: `s3://raw/acq/${file(v)}` },
          ...viewMeta(v),
        });
        expect(r.status, JSON.stringify(r.body)).toBe(202);
        expect(r.body).toMatchObject({
          viewKey: `t${v.time}-i0-c${v.channel}-s${v.tile}-a0`,
          status: 'queued',
        });
      } else {
        const key = `t${v.time}-i0-c${v.channel}-s${v.tile}-a0`;
        const r = await api.request(
          'PUT',
          `/v1/datasets/${id}/views/${key}/data?format=npy`,
          new Uint8Array(readFileSync(p(file(v)))),
          {
            'content-type': 'application/octet-stream',
            'x-bdv-view-metadata': JSON.stringify(viewMeta(v)),
          },
        );
        expect(r.status, JSON.stringify(r.body)).toBe(202);
      }
      const secondView = await api.post(`/v1/datasets/${second.body.id}/views`, {
        ...v,
        source: { uri: `file://${p(file(v))}` },
      });
      expect(secondView.status).toBe(202);
    }
    const dup = await api.post(`/v1/datasets/${id}/views`, {
      time: 0,
      channel: 0,
      tile: 0,
      source: { uri: `s3://raw/acq/${file(VIEWS[0]!)}` },
    });
    expect(dup.status).toBe(409);
    const missing = await api.post(`/v1/datasets/${id}/views`, {
      time: 1,
      channel: 0,
      tile: 0,
      source: { uri: 's3://raw/acq/absent.npy' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('s3://raw/acq/absent.npy: no such object');

    expect((await api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(202);
    expect((await api.post(`/v1/datasets/${second.body.id}/finalize`, {})).status).toBe(202);
    const late = await api.post(`/v1/datasets/${id}/views`, {
      time: 0,
      channel: 0,
      tile: 0,
      angle: 0,
      illumination: 0,
      source: { uri: `file://${p('other.npy')}` },
    });
    expect(late.status).toBe(409);

    const done = await api.waitForDataset(id, ['complete', 'failed']);
    expect(done.status).toBe('complete');
    expect(done.views).toEqual({ queued: 0, running: 0, done: 8, failed: 0 });
    expect(done.files.h5Uri).toBe('s3://output/e2e-main/e2e-main.h5');
    const other = await api.waitForDataset(second.body.id, ['complete', 'failed']);
    expect(other.status, JSON.stringify(other.errors)).toBe('complete');

    // exactly one finalize, and both writers took part
    expect(await cluster.redis.hget(`${cluster.prefix}:ds:${id}`, 'generation')).toBe('1');
    const writers = new Set(cluster.logs.filter((l) => l.line.includes('"view written"')).map((l) => l.role));
    expect([...writers].sort()).toEqual(['writer-1', 'writer-2']);

    // the same inputs through bdv convert, in-process
    const manifest = {
      dataset: datasetBody('local'),
      views: VIEWS.map((v) => ({ ...v, source: { uri: p(file(v)) }, ...viewMeta(v) })),
    };
    writeFileSync(p('manifest.json'), JSON.stringify(manifest));
    const convert = spawnSync(
      process.execPath,
      ['apps/cli/bin/bdv.js', 'convert', '-m', p('manifest.json'), '-o', p('local.h5'), '--progress', 'none'],
      { encoding: 'utf8' },
    );
    expect(convert.status, convert.stderr).toBe(0);

    const views = VIEWS.map((v) => ({ time: v.time, setup: v.channel * 2 + v.tile, npy: p(file(v)) }));
    for (const h5 of [done.files.h5, other.files.h5, p('local.h5')]) {
      const subsampling = SUBSAMPLING;
      for (const view of comparePixels({ h5, subsampling_zyx: subsampling, views })) {
        for (const level of view.levels)
          expect(level.mismatches, `${h5} t${view.time} s${view.setup} L${level.level}`).toBe(0);
      }
    }
    const cluster1 = describeBdv(done.files.h5, done.files.xml);
    const local = describeBdv(p('local.h5'), p('local.xml'));
    expect(sameXml(cluster1.xml!, local.xml!)).toEqual([]);
    expect(cluster1.h5.datasets['t00001/s03/2/cells']).toEqual(local.h5.datasets['t00001/s03/2/cells']);
    const xmlOverHttp = await api.get(`/v1/datasets/${id}/xml`);
    expect(xmlOverHttp.status).toBe(200);
    expect(xmlOverHttp.body).toBe(readFileSync(done.files.xml, 'utf8'));
  });

  it('fails a corrupt stack with its reason and still completes the others', async () => {
    const created = await api.post('/v1/datasets', { name: 'e2e-corrupt', setup: { tiles: 2 } });
    const id = created.body.id as string;
    expect(
      (await api.post(`/v1/datasets/${id}/views`, { tile: 0, source: { uri: `file://${p('other.npy')}` } }))
        .status,
    ).toBe(202);
    expect(
      (await api.post(`/v1/datasets/${id}/views`, { tile: 1, source: { uri: `file://${p('corrupt.tif')}` } }))
        .status,
    ).toBe(202);
    await api.post(`/v1/datasets/${id}/finalize`, {});
    const done = await api.waitForDataset(id, ['complete', 'failed']);
    expect(done.status).toBe('complete');
    expect(done.views).toMatchObject({ done: 1, failed: 1 });
    expect(done.errors.join('\n')).toMatch(/t0-i0-c0-s1-a0: .*corrupt\.tif: page 2 is 20x30 \(y,x\)/);
    const views = (await api.get(`/v1/datasets/${id}/views`)).body as {
      viewKey: string;
      state: string;
      error?: string;
    }[];
    expect(views.find((v) => v.viewKey === 't0-i0-c0-s1-a0')).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('corrupt.tif'),
    });
    const xml = (await api.get(`/v1/datasets/${id}/xml`)).body as string;
    expect(xml).toContain('<MissingView timepoint="0" setup="1"/>');
    // a failed view is reported once, not retried into a storm
    expect(
      cluster.logs.filter((l) => l.line.includes('corrupt.tif') && l.line.includes('"view failed"')),
    ).toHaveLength(1);
  });

  it('bdv submit uploads local files (a raw one with a vendor header too), waits, and bdv status reports it', async () => {
    // other.npy's pixels behind a 64-byte header of another instrument: only headerBytes tells.
    const npy = readFileSync(p('other.npy'));
    const pixels = npy.subarray(npy.length - 6 * 30 * 30 * 2);
    writeFileSync(p('vendor.raw'), Buffer.concat([Buffer.alloc(64, 0xab), pixels]));
    const manifest = {
      dataset: { name: 'e2e-cli', setup: { tiles: 3 }, compression: 'gzip' },
      views: [
        { tile: 0, source: { uri: file(VIEWS[0]!) } },
        { tile: 1, source: { uri: `file://${p(file(VIEWS[1]!))}` }, voxelSizeXyz: [1, 1, 3] },
        { tile: 2, source: { uri: 'vendor.raw', format: 'raw', shapeZyx: [6, 30, 30], headerBytes: 64 } },
      ],
    };
    writeFileSync(p('submit.json'), JSON.stringify(manifest));
    const env = { ...process.env, BDV_API_URL: cluster.stack.apiUrl, BDV_API_TOKEN: cluster.stack.token };
    // Asynchronous: s3rver runs in this process and must keep answering while the CLI uploads.
    const bdvCli = (args: string[], extraEnv: Record<string, string> = {}) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        execFile(
          process.execPath,
          ['apps/cli/bin/bdv.js', ...args],
          { env: { ...env, ...extraEnv } },
          (error, stdout, stderr) =>
            done({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const submitted = await bdvCli(['submit', '-m', p('submit.json'), '--wait', '--progress', 'lines']);
    expect(submitted.status, submitted.stderr).toBe(0);
    expect(submitted.stdout).toMatch(/e2e-cli \(.*\): complete/);
    expect(submitted.stdout).toContain('3 done, 0 failed');
    const id = /e2e-cli \((.*)\): complete/.exec(submitted.stdout)![1]!;
    const h5 = (await api.get(`/v1/datasets/${id}`)).body.files.h5 as string;
    const [raw] = comparePixels({
      h5,
      subsampling_zyx: [[1, 1, 1]],
      views: [{ time: 0, setup: 2, npy: p('other.npy') }],
    });
    expect(raw!.levels[0]!.mismatches).toBe(0);
    const listed = await bdvCli(['status']);
    expect(listed.stdout).toMatch(/complete\s+3 done\s+0 failed\s+e2e-cli/);
    const denied = await bdvCli(['status'], { BDV_API_TOKEN: 'wrong' });
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(/401 .*set BDV_API_TOKEN/);
    expect(submitted.stderr.match(/^\[\d\/3\] submitted t0-i0-c0-s\d-a0$/gm)).toHaveLength(3);

    // Views go several at a time; the first refusal stops the submission and names its source.
    const missing = `file://${p('no-such-stack.npy')}`;
    const views = [0, 1, 2, 3].map((tile) => ({
      tile,
      source: { uri: tile === 2 ? missing : file(VIEWS[0]!) },
    }));
    writeFileSync(
      p('refused.json'),
      JSON.stringify({ dataset: { name: 'e2e-refused', setup: { tiles: 4 } }, views }),
    );
    const refused = await bdvCli(['submit', '-m', p('refused.json'), '--no-finalize', '--progress', 'none']);
    expect(refused.status).toBe(1);
    const said =
      /^bdv: error: t0-i0-c0-s2-a0: .*no-such-stack\.npy.*; (\d) of 4 view\(s\) were submitted/m.exec(
        refused.stderr,
      );
    expect(said, refused.stderr).not.toBeNull();
    // what it says was accepted is what the cluster holds (requests in flight were let finish)
    const refusedId = /^dataset e2e-refused: (\S+)$/m.exec(refused.stdout)![1]!;
    const held = (await api.get(`/v1/datasets/${refusedId}/views`)).body as unknown[];
    expect(held).toHaveLength(Number(said![1]));
  });

  it('answers health and metrics', async () => {
    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.info).toMatchObject({
      redis: { status: 'up' },
      s3: { status: 'up' },
      outputDir: { status: 'up' },
    });
    const metrics = await api.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/bdv_views_written_total \d+/);
    expect(metrics.body).toMatch(/bdv_jobs\{queue="bdv-write-view",state="completed"\} \d+/);
    expect((await new ApiClient(cluster.stack.apiUrl).get('/queues')).status).toBe(401);
    const board = await api.get('/queues');
    expect(board.status).toBe(200);
    expect(String(board.body)).toContain('<html');
    const docs = await api.get('/docs/openapi.json');
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/datasets',
        '/v1/datasets/{id}/views',
        '/v1/datasets/{id}/views/{viewKey}/data',
      ]),
    );
  });

  // Last: it stops one of the two writers.
  it('a writer stopped with SIGTERM finishes the view in hand, marks it done and exits 0', async () => {
    const created = await api.post('/v1/datasets', { name: 'e2e-sigterm', compression: 'gzip' });
    const id = created.body.id as string;
    expect(
      (await api.post(`/v1/datasets/${id}/views`, { source: { uri: `file://${p('large.npy')}` } })).status,
    ).toBe(202);
    let writerRole: string | undefined;
    for (let i = 0; i < 200 && !writerRole; i++) {
      writerRole = cluster.logs.find((l) => l.line.includes('"writing view"') && l.line.includes(id))?.role;
      if (!writerRole) await new Promise((r) => setTimeout(r, 50));
    }
    expect(writerRole).toBeDefined();
    const writer = cluster.stack.children.find((c) => c.role === writerRole)!.child;
    const exited = new Promise<number | null>((done) => writer.once('exit', (code) => done(code)));
    writer.kill('SIGTERM');
    expect(await exited).toBe(0);
    const views = (await api.get(`/v1/datasets/${id}/views`)).body as { state: string }[];
    expect(views.map((v) => v.state)).toEqual(['done']);
    const lines = cluster.logs.filter((l) => l.role === writerRole).map((l) => l.line);
    const stopping = lines.findIndex((l) => l.includes('shutting down'));
    const written = lines.findIndex((l) => l.includes('"view written"') && l.includes(id));
    expect(stopping).toBeGreaterThanOrEqual(0);
    expect(written).toBeGreaterThan(stopping); // the view finished after the signal, not before
    await api.post(`/v1/datasets/${id}/finalize`, {});
    expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('complete');
  });
});
