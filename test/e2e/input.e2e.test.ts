import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { npyHeader } from '@bdv-cluster/stacks';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { comparePixels, makeStacks, tempDir } from '../support/oracle.js';
import { zerosNpy } from '../support/sparse-npy.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

// What the API accepts as input, against real processes: concurrent uploads of one view, declared
// shapes against the bytes, which buckets and keys a source may name, batches re-run against an
// existing dataset, and batch folders that cannot be listed.

const EXTRA_BUCKET = 'archive-extra';
const dir = tempDir('bdv-input-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let api: ApiClient;
let s3: S3Client;

/** A .npy of `shape` whose every pixel is `value`. */
function npy(shape: [number, number, number], value: number): Buffer {
  const data = new Uint16Array(shape[0] * shape[1] * shape[2]).fill(value);
  return Buffer.concat([npyHeader(shape), Buffer.from(data.buffer)]);
}

const put = (bucket: string, key: string, body: Uint8Array | string) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

async function createDataset(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await api.post('/v1/datasets', { name, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
}

const noViews = { queued: 0, running: 0, done: 0, failed: 0 };

beforeAll(async () => {
  // Uploads here are small; 3 MiB lets the bounds test pass UPLOAD_MAX_BYTES with 4 MiB bodies.
  cluster = await startTestCluster(dir.path, 1, {
    SOURCE_BUCKETS: EXTRA_BUCKET,
    UPLOAD_MAX_BYTES: String(3 * 2 ** 20),
  });
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket: EXTRA_BUCKET }));
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

describe('concurrent uploads of one view', () => {
  it('converts the bytes of the upload that got 202, and deletes the others', async () => {
    const id = await createDataset('upload-race');
    const shape: [number, number, number] = [4, 64, 128];
    const bodies = [0, 1, 2, 3, 4].map((i) => npy(shape, 1000 + i));
    const answers = await Promise.all(
      bodies.map((body) =>
        api.request('PUT', `/v1/datasets/${id}/views/t0-i0-c0-s0-a0/data?format=npy`, new Uint8Array(body), {
          'content-type': 'application/octet-stream',
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, JSON.stringify(answers.map((a) => a.body))).toEqual([202, 409, 409, 409, 409]);
    const winner = answers.findIndex((a) => a.status === 202);

    // The view's source is the winner's own object, holding the winner's bytes; no other is left.
    const [view] = (await api.get(`/v1/datasets/${id}/views`)).body as { source: string }[];
    const m = /^s3:\/\/raw\/(.+)$/.exec(view!.source)!;
    const stored = await s3.send(new GetObjectCommand({ Bucket: 'raw', Key: m[1] }));
    expect(Buffer.compare(Buffer.from(await stored.Body!.transformToByteArray()), bodies[winner]!)).toBe(0);
    expect(await keysUnder('raw', `uploads/${id}/`)).toEqual([m[1]]);

    // And the file holds the winner's pixels (read back by h5py).
    await api.post(`/v1/datasets/${id}/finalize`, {});
    const done = await api.waitForDataset(id, ['complete', 'failed']);
    expect(done.status).toBe('complete');
    writeFileSync(p('winner.npy'), bodies[winner]!);
    const [compared] = comparePixels({
      h5: done.files.h5,
      subsampling_zyx: [[1, 1, 1]],
      views: [{ time: 0, setup: 0, npy: p('winner.npy') }],
    });
    expect(compared!.levels[0]!.mismatches).toBe(0);
  });
});

describe('declared shape against the actual bytes, at submit', () => {
  it('refuses a raw source whose size is not headerBytes + shape × sample size', async () => {
    const id = await createDataset('shape-raw', { setup: { tiles: 2 } });
    await put('raw', 'shapes/small.raw', new Uint8Array(2048));
    const huge = await api.post(`/v1/datasets/${id}/views`, {
      source: { uri: 's3://raw/shapes/small.raw', format: 'raw', shapeZyx: [1000, 1000, 1000] },
    });
    expect(huge.status).toBe(400);
    expect(huge.body.message).toMatch(/small\.raw: has 2048 bytes, expected 2000000000 /);
    expect(huge.body.details[0].field).toBe('source');
    const header = await api.post(`/v1/datasets/${id}/views`, {
      tile: 1,
      source: { uri: 's3://raw/shapes/small.raw', format: 'raw', shapeZyx: [1, 32, 32], headerBytes: 64 },
    });
    expect(header.status).toBe(400);
    expect(header.body.message).toMatch(/has 2048 bytes, expected 2112 \(64 header \+ 2048 data bytes/);
    const right = await api.post(`/v1/datasets/${id}/views`, {
      source: { uri: 's3://raw/shapes/small.raw', format: 'raw', shapeZyx: [1, 32, 32] },
    });
    expect(right.status, JSON.stringify(right.body)).toBe(202);
  });

  it('reads .npy and TIFF headers: wrong dtype, wrong shape and short files are 400', async () => {
    const id = await createDataset('shape-headers');
    await put('raw', 'shapes/a.npy', npy([2, 8, 8], 5));
    await put('raw', 'shapes/short.npy', npy([2, 8, 8], 5).subarray(0, 200));
    makeStacks(dir.path, [{ path: p('stack.tif'), shape: [5, 10, 12], format: 'tiff' }]);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ uri: 's3://raw/shapes/a.npy', dtype: 'uint8' }, /a\.npy: samples are uint16, expected uint8/],
      [
        { uri: 's3://raw/shapes/a.npy', shapeZyx: [2, 8, 9] },
        /shape \(z,y,x\) is \(2, 8, 8\), expected \(2, 8, 9\)/,
      ],
      [{ uri: 's3://raw/shapes/short.npy' }, /short\.npy: has 200 bytes, expected \d+/],
      [
        { uri: `file://${p('stack.tif')}`, shapeZyx: [6, 10, 12] },
        /is \(5, 10, 12\), expected \(6, 10, 12\)/,
      ],
      [{ uri: 's3://raw/shapes/a.npy', format: 'tiff' }, /not a readable TIFF/],
    ];
    for (const [source, message] of cases) {
      const r = await api.post(`/v1/datasets/${id}/views`, { source });
      expect(r.status, JSON.stringify(source)).toBe(400);
      expect(r.body.message).toMatch(message);
    }
    expect((await api.get(`/v1/datasets/${id}`)).body.views).toEqual(noViews);
    const tiff = await api.post(`/v1/datasets/${id}/views`, {
      source: { uri: `file://${p('stack.tif')}`, shapeZyx: [5, 10, 12] },
    });
    expect(tiff.status, JSON.stringify(tiff.body)).toBe(202);
  });

  it('checks an upload once stored: empty or short bodies are 400 and their object is deleted', async () => {
    const id = await createDataset('shape-upload');
    const path = `/v1/datasets/${id}/views/t0-i0-c0-s0-a0/data`;
    const octets = { 'content-type': 'application/octet-stream' };
    const short = await api.request('PUT', `${path}?format=npy`, npy([2, 8, 8], 1).subarray(0, 150), octets);
    expect(short.status).toBe(400);
    // Said of the upload, not of the object the API stored it as.
    expect(short.body.message).toMatch(/^body: the upload: has 150 bytes, expected \d+/);
    const raw = await api.request('PUT', `${path}?format=raw&shapeZyx=2,8,8`, new Uint8Array(100), octets);
    expect(raw.status).toBe(400);
    expect(raw.body.message).toMatch(/has 100 bytes, expected 256/);
    // A chunked body with no bytes (no Content-Length to tell in advance).
    const chunkedEmpty = await fetch(`${cluster.stack.apiUrl}${path}?format=npy`, {
      method: 'PUT',
      headers: { ...octets, authorization: `Bearer ${cluster.stack.token}` },
      body: new ReadableStream({ start: (c) => c.close() }),
      duplex: 'half',
    } as RequestInit);
    expect(chunkedEmpty.status).toBe(400);
    expect(((await chunkedEmpty.json()) as { message: string }).message).toMatch(/body: empty/);
    expect(await keysUnder('raw', `uploads/${id}/`)).toEqual([]);
    expect((await api.get(`/v1/datasets/${id}`)).body.views).toEqual(noViews);
    const good = await api.request('PUT', `${path}?format=npy`, new Uint8Array(npy([2, 8, 8], 1)), octets);
    expect(good.status, JSON.stringify(good.body)).toBe(202);
  });
});

describe('which buckets and keys a source may name', () => {
  it('reads RAW_BUCKET and SOURCE_BUCKETS only, with keys free of dot and empty segments', async () => {
    const id = await createDataset('buckets', { setup: { tiles: 2 } });
    await put('output', 'elsewhere/x.npy', npy([2, 8, 8], 3));
    await put('raw', 'elsewhere/x.npy', npy([2, 8, 8], 3));
    await put(EXTRA_BUCKET, 'run/x.npy', npy([2, 8, 8], 3));
    const refused: [string, RegExp][] = [
      ['s3://output/elsewhere/x.npy', /bucket output is not a source bucket \(allowed: raw, archive-extra/],
      ['s3://raw/../output/elsewhere/x.npy', /the key has a "\." or "\.\." segment/],
      ['s3://raw/elsewhere/./x.npy', /the key has a "\." or "\.\." segment/],
      ['s3://raw//elsewhere/x.npy', /the key has an empty segment/],
      ['s3://raw/elsewhere//x.npy', /the key has an empty segment/],
      ['s3://Raw_Bucket/elsewhere/x.npy', /"Raw_Bucket" is not a valid bucket name/],
      ['s3://192.168.0.1/elsewhere/x.npy', /not a valid bucket name/],
    ];
    for (const [uri, message] of refused) {
      const r = await api.post(`/v1/datasets/${id}/views`, { source: { uri } });
      expect(r.status, uri).toBe(400);
      expect(r.body.message, uri).toMatch(message);
    }
    expect((await api.get(`/v1/datasets/${id}`)).body.views).toEqual(noViews);
    const extra = await api.post(`/v1/datasets/${id}/views`, {
      source: { uri: `s3://${EXTRA_BUCKET}/run/x.npy` },
    });
    expect(extra.status, JSON.stringify(extra.body)).toBe(202);
    const raw = await api.post(`/v1/datasets/${id}/views`, {
      tile: 1,
      source: { uri: 's3://raw/elsewhere/x.npy' },
    });
    expect(raw.status, JSON.stringify(raw.body)).toBe(202);
  });

  it('applies the same rules to batch sources', async () => {
    const batch = (source: string) => ({ source, pattern: 'x{tile}.npy', dataset: { name: 'bucket-batch' } });
    await put(EXTRA_BUCKET, 'batch/x0.npy', npy([2, 8, 8], 3));
    for (const [source, message] of [
      ['s3://output/elsewhere/', /bucket output is not a source bucket/],
      ['s3://raw/../output/elsewhere/', /the key has a "\." or "\.\." segment/],
      ['s3://raw//elsewhere/', /the key has an empty segment/],
    ] as const) {
      const r = await api.post('/v1/batches', batch(source));
      expect(r.status, source).toBe(400);
      expect(r.body.message, source).toMatch(message);
    }
    const dry = await api.post('/v1/batches', { ...batch(`s3://${EXTRA_BUCKET}/batch/`), dryRun: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
  });
});

describe('a batch re-run against the dataset an earlier run made', () => {
  const body = (extra: Record<string, unknown> = {}) => ({
    source: 's3://raw/rerun/',
    pattern: 'c{channel}.npy',
    dataset: { name: 'rerun', compression: 'none', ...extra },
  });

  it('answers 409 naming what does not fit, and adds nothing', async () => {
    await put('raw', 'rerun/c0.npy', npy([2, 8, 8], 10));
    await put('raw', 'rerun/c1.npy', npy([2, 8, 8], 11));
    const first = await api.post('/v1/batches', body());
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const id = first.body.datasetId as string;
    expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('complete');
    const same = await api.post('/v1/batches', body());
    expect(same.status).toBe(202);
    expect(same.body).toMatchObject({ datasetId: id, queued: 0, skipped: 2 });
    expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('complete');

    const gzip = await api.post('/v1/batches', body({ compression: 'gzip' }));
    expect(gzip.status).toBe(409);
    expect(gzip.body.message).toMatch(/dataset\.compression: is "none" in the existing dataset, "gzip" here/);

    // A new channel in the archive: the inferred setup no longer fits the file.
    await put('raw', 'rerun/c2.npy', npy([2, 8, 8], 12));
    const grown = await api.post('/v1/batches', body());
    expect(grown.status).toBe(409);
    expect(grown.body.details).toEqual([
      { field: 'dataset.setup.channels', message: 'is 2 in the existing dataset, 3 here' },
    ]);

    const after = await api.get(`/v1/datasets/${id}`);
    expect(after.body).toMatchObject({ status: 'complete', views: { ...noViews, done: 2 } });
    expect((await api.get(`/v1/datasets/${id}/xml`)).status).toBe(200);
  });
});

describe('batch folders that cannot be listed', () => {
  it('answers 400 naming the folder or entry, never 500', async () => {
    const batch = (folder: string) => ({
      source: `file://${p(folder)}/`,
      pattern: 't{time}.npy',
      dataset: { name: `listing-${folder}` },
    });
    mkdirSync(p('dangling'));
    writeFileSync(p('dangling/t0.npy'), npy([2, 8, 8], 1));
    symlinkSync(p('dangling/nowhere.npy'), p('dangling/t1.npy'));
    mkdirSync(p('looping'));
    symlinkSync(p('looping/t1.npy'), p('looping/t0.npy'));
    symlinkSync(p('looping/t0.npy'), p('looping/t1.npy'));
    mkdirSync(p('escaping'));
    symlinkSync('/etc/hostname', p('escaping/t0.npy'));
    const cases: [string, RegExp][] = [
      ['missing', /the folder does not exist/],
      ['dangling', /'t1\.npy' is a dangling link/],
      ['looping', /'t0\.npy' is a link that loops/],
      ['escaping', /views\[0\]\.source: .*t0\.npy: outside the allowed folders/],
    ];
    for (const [folder, message] of cases) {
      const r = await api.post('/v1/batches', batch(folder));
      expect(r.status, `${folder}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.message, folder).toMatch(message);
    }
    // A folder that lists fine, for contrast.
    mkdirSync(p('fine'));
    writeFileSync(p('fine/t0.npy'), npy([2, 8, 8], 1));
    const ok = await api.post('/v1/batches', { ...batch('fine'), dryRun: true });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });
});

/** A 4x4 uint16 one-page TIFF whose next-IFD offset points back at its own IFD. */
function loopingTiff(): Buffer {
  const tags: [number, number, number][] = [
    [256, 3, 4],
    [257, 3, 4],
    [258, 3, 16],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 8],
    [277, 3, 1],
    [278, 3, 4],
    [279, 4, 32],
  ];
  const ifd = 8 + 32;
  const out = Buffer.alloc(ifd + 2 + tags.length * 12 + 4);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifd, 4);
  out.writeUInt16LE(tags.length, ifd);
  tags.forEach(([tag, type, value], i) => {
    const at = ifd + 2 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(1, at + 4);
    if (type === 3) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  });
  out.writeUInt32LE(ifd, ifd + 2 + tags.length * 12);
  return out;
}

describe('sources built to crash or hang the API', () => {
  it('are 400s naming the source, answered at once, and the API keeps serving', async () => {
    const id = await createDataset('hostile', { setup: { tiles: 2 } });
    mkdirSync(p('hostile'));
    writeFileSync(p('hostile/loop.tif'), loopingTiff());
    // A .npy claiming a 700 MiB header (sparse): decoding it aborted Node.
    const claim = Buffer.alloc(12 + 64);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(claim);
    claim.writeUInt32LE(700 * 1024 * 1024, 8);
    writeFileSync(p('hostile/header.npy'), claim);
    truncateSync(p('hostile/header.npy'), 12 + 700 * 1024 * 1024 + 2);
    execFileSync('mkfifo', [p('hostile/pipe.npy')]);
    mkdirSync(p('hostile/folder.npy'));
    writeFileSync(
      p('hostile/wide.npy'),
      Buffer.concat([npyHeader([1, 1, 1_100_000]), Buffer.alloc(2_200_000)]),
    );
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { uri: `file://${p('hostile/loop.tif')}` },
        /loop\.tif: not a readable TIFF \(its chain of pages loops/,
      ],
      [
        { uri: `file://${p('hostile/header.npy')}` },
        /header\.npy: not a valid \.npy file \(header of 734003200 bytes/,
      ],
      [{ uri: `file://${p('hostile/pipe.npy')}` }, /pipe\.npy: not a regular file \(a named pipe\)/],
      [{ uri: `file://${p('hostile/folder.npy')}` }, /folder\.npy: not a regular file \(a directory\)/],
      [
        { uri: `file://${p('hostile/wide.npy')}` },
        /wide\.npy: shape \(1, 1, 1100000\) is larger than a stack bdv writes/,
      ],
      [{ uri: `s3://raw/${'k'.repeat(1100)}.npy` }, /the key is 1104 bytes, S3 keys are at most 1024/],
    ];
    // Four FIFOs opened blocking would each hold one of libuv's four threads: all in parallel.
    const answers = await Promise.all(
      cases.map(([source]) => api.post(`/v1/datasets/${id}/views`, { source })),
    );
    answers.forEach((r, i) => {
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.message).toMatch(cases[i]![1]);
      expect(r.body.details[0].field).toBe('source');
    });
    const upload = await api.request(
      'PUT',
      `/v1/datasets/${id}/views/t0-i0-c0-s0-a0/data?format=tiff`,
      new Uint8Array(loopingTiff()),
      { 'content-type': 'application/octet-stream' },
    );
    expect(upload.status, JSON.stringify(upload.body)).toBe(400);
    expect(upload.body.message).toMatch(/not a readable TIFF \(its chain of pages loops/);
    expect(await keysUnder('raw', `uploads/${id}/`)).toEqual([]);
    expect((await api.get(`/v1/datasets/${id}`)).body.views).toEqual(noViews);
    const fine = await api.post(`/v1/datasets/${id}/views`, {
      tile: 1,
      source: { uri: `file://${p('hostile/ok.npy')}` },
    });
    expect(fine.status).toBe(400); // not there yet: the API still answers, naming it
    writeFileSync(p('hostile/ok.npy'), npy([2, 8, 8], 7));
    const ok = await api.post(`/v1/datasets/${id}/views`, {
      tile: 1,
      source: { uri: `file://${p('hostile/ok.npy')}` },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
  });

  it('ids that are not ids are 404 before they reach Redis (`<id>:errors` named another key)', async () => {
    const id = await createDataset('ids');
    for (const path of [
      `/v1/datasets/${id}:errors`,
      `/v1/datasets/${id}:errors/views`,
      '/v1/datasets/x',
      '/v1/batches/x',
    ]) {
      const r = await api.get(path);
      expect(r.status, path).toBe(404);
      expect(r.body.message, path).toMatch(/^(dataset|batch) .* does not exist$/);
    }
  });

  it('refuses times and timepoints the finalizer would refuse, naming the field', async () => {
    const id = await createDataset('many-tiles', { setup: { tiles: 200 } });
    // Finalized before any view, it could only fail, and a finalized dataset takes no more views.
    const early = await api.post(`/v1/datasets/${id}/finalize`, { timepoints: 4 });
    expect(early.status).toBe(409);
    expect(early.body.message).toBe(
      `dataset ${id} has no views yet: submit or upload at least one before finalizing (a finalized dataset takes no more)`,
    );
    const far = await api.post(`/v1/datasets/${id}/views`, {
      time: 99_999,
      tile: 199,
      source: { uri: 's3://raw/shapes/a.npy' },
    });
    expect(far.status).toBe(400);
    expect(far.body.details).toEqual([
      {
        field: 'time',
        message: expect.stringMatching(
          /99999 is out of range: 100000 timepoints x 200 setups would be more than 1000000 views \(at most time 4999\)/,
        ),
      },
    ]);
    await put('raw', 'times/t3.npy', npy([2, 8, 8], 3));
    const t3 = await api.post(`/v1/datasets/${id}/views`, {
      time: 3,
      source: { uri: 's3://raw/times/t3.npy' },
    });
    expect(t3.status, JSON.stringify(t3.body)).toBe(202);
    const tooMany = await api.post(`/v1/datasets/${id}/finalize`, { timepoints: 100_000 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(
      /^timepoints: 100000 timepoints x 200 setups = 20000000 views is more than 1000000/,
    );
    const tooFew = await api.post(`/v1/datasets/${id}/finalize`, { timepoints: 3 });
    expect(tooFew.status).toBe(400);
    expect(tooFew.body.message).toBe('timepoints: 3, but a view submitted has time 3 (needs at least 4)');
    const right = await api.post(`/v1/datasets/${id}/finalize`, { timepoints: 4 });
    expect(right.status, JSON.stringify(right.body)).toBe(202);
    expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('complete');
  });
});

describe('a view whose shape only its header gives', () => {
  it('is held to the slab and chunk bounds at submit, as a declared shape is (the writer had failed it)', async () => {
    const id = await createDataset('tiny-blocks', { blockSizeZyx: [[1, 1, 1]] });
    zerosNpy(p('wide.npy'), [96, 512, 512]);
    const r = await api.post(`/v1/datasets/${id}/views`, { source: { uri: `file://${p('wide.npy')}` } });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual([
      {
        field: 'source',
        message: expect.stringMatching(
          /^96x512x512 \(z,y,x\) from its header: a 96x512x512 \(z,y,x\) stack in blocks 1,1,1 makes \d+ HDF5 chunks/,
        ),
      },
    ]);
    expect((await api.get(`/v1/datasets/${id}`)).body.views).toMatchObject({ queued: 0, running: 0 });
  });
});

describe('upload bodies larger than they can be', () => {
  it('are refused once past their bound, before the rest is stored, and nothing is left', async () => {
    const id = await createDataset('upload-bounds', { setup: { tiles: 4 } });
    const path = (tile: number, query: string) =>
      `/v1/datasets/${id}/views/t0-i0-c0-s${tile}-a0/data?${query}`;
    const octets = { 'content-type': 'application/octet-stream' };
    const extra = new Uint8Array(4 * 1024 * 1024);
    // A .npy whose header says 2x8x8: 256 bytes of samples, then 4 MiB more.
    const npyLong = await api.request(
      'PUT',
      path(0, 'format=npy'),
      new Uint8Array(Buffer.concat([npy([2, 8, 8], 1), extra])),
      octets,
    );
    expect(npyLong.status, JSON.stringify(npyLong.body)).toBe(413);
    expect(npyLong.body.message).toMatch(
      /^body: more than the \d+ bytes its \.npy header \(2x8x8 uint16\) says it holds$/,
    );
    // One claiming a 700 MiB header, refused from its first bytes.
    const claim = Buffer.alloc(12 + 100);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(claim);
    claim.writeUInt32LE(700 * 1024 * 1024, 8);
    const npyClaim = await api.request('PUT', path(1, 'format=npy'), new Uint8Array(claim), octets);
    expect(npyClaim.status).toBe(400);
    expect(npyClaim.body.message).toMatch(
      /^body: the upload: not a valid \.npy file \(header of 734003200 bytes/,
    );
    const rawLong = await api.request('PUT', path(2, 'format=raw&shapeZyx=2,8,8'), extra, octets);
    expect(rawLong.status).toBe(413);
    expect(rawLong.body.message).toBe('body: more than the 256 bytes its declared format and shape allow');
    const tiffLong = await api.request(
      'PUT',
      path(3, 'format=tiff&shapeZyx=1,4,4'),
      new Uint8Array(2 * 1024 * 1024),
      octets,
    );
    expect(tiffLong.status).toBe(413);
    // The operator's bound: the only one of a TIFF without a declared shape (else 2 TiB) …
    const past = `UPLOAD_MAX_BYTES (${3 * 2 ** 20}) allows an upload to hold; give a larger stack as an s3:// or file:// source`;
    const tiffUnshaped = await api.request('PUT', path(3, 'format=tiff'), extra, octets);
    expect(tiffUnshaped.status).toBe(413);
    expect(tiffUnshaped.body.message).toBe(`body: more than the ${3 * 2 ** 20} bytes ${past}`);
    // … and a declaration larger than it is refused before any byte is read.
    const rawLarge = await api.request('PUT', path(2, 'format=raw&shapeZyx=2,1024,1024'), extra, octets);
    expect(rawLarge.status).toBe(413);
    expect(rawLarge.body.message).toBe(
      `body: its declared format and shape need 4194304 bytes, more than ${past}`,
    );
    // Clients that send their whole body before they read (Python's requests) hear the 413 too;
    // one waiting for 100 Continue is never told to send.
    const declared = `${path(2, 'format=raw&shapeZyx=2,1024,1024')}`;
    const url = new URL(cluster.stack.apiUrl);
    expect(await sentWholeThenRead(url, declared, 5 * 2 ** 20, cluster.stack.token)).toMatch(
      /^HTTP\/1\.1 413 [\s\S]*UPLOAD_MAX_BYTES/,
    );
    expect(await waitedForContinue(url, declared, 5 * 2 ** 20, cluster.stack.token)).toEqual({
      status: 413,
      toldToSend: false,
    });
    expect(await keysUnder('raw', `uploads/${id}/`)).toEqual([]);
    expect((await api.get(`/v1/datasets/${id}`)).body.views).toEqual(noViews);
    // Exactly as long as the header says: taken.
    const exact = await api.request('PUT', path(0, 'format=npy'), new Uint8Array(npy([2, 8, 8], 1)), octets);
    expect(exact.status, JSON.stringify(exact.body)).toBe(202);
  });
});

/** A PUT whose whole body is written before any answer is read; the answer's text. */
function sentWholeThenRead(url: URL, path: string, bytes: number, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `PUT ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${bytes}\r\n\r\n`,
      );
      socket.write(Buffer.alloc(bytes), () => {
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('end', () => resolve(text));
        socket.on('close', () => resolve(text));
      });
    });
    socket.on('error', reject);
  });
}

/** A PUT with `Expect: 100-continue`, its body sent only if told to: the status, and whether it was. */
function waitedForContinue(url: URL, path: string, bytes: number, token: string) {
  return new Promise<{ status: number; toldToSend: boolean }>((resolve, reject) => {
    let toldToSend = false;
    const req = request({
      host: url.hostname,
      port: Number(url.port),
      method: 'PUT',
      path,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'content-length': bytes,
        expect: '100-continue',
      },
    });
    req.on('continue', () => {
      toldToSend = true;
      req.end(Buffer.alloc(bytes));
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, toldToSend }));
    });
    req.on('error', reject);
  });
}
