import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { writeBeadNpy } from '../support/bead-stacks.js';
import { tempDir } from '../support/oracle.js';
import { writeTruncatedTiff } from '../support/truncated-tiff.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';
import { waitUntil } from '../support/wait-until.js';

// Cancel and retry against real processes: DELETE stops a view being written at a safe point,
// removes the outputs and frees the name; a complete dataset goes only with ?purge=true; a failed
// view is queued again (POST …/retry, bdv retry) and the dataset finalizes again with it.

const dir = tempDir('bdv-e2e-cancel-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let api: ApiClient;

beforeAll(async () => {
  // large enough (and gzip, tiny chunks) that a writer is still at it when DELETE arrives: ~4 s on
  // the fastest machine seen (160 planes of 4x32x32 chunks, 0.9 s, once finished before the
  // writer noticed the cancel)
  writeBeadNpy(p('big.npy'), [320, 512, 512], [{ z: 10, y: 10, x: 10, size: 8, value: 4000 }]);
  for (const i of [0, 1, 2])
    writeBeadNpy(p(`small${i}.npy`), [8, 40, 40], [{ z: 1, y: 1, x: 1, size: 3, value: 999 }]);
  writeTruncatedTiff(p('flaky.tif'), 20);
  cluster = await startTestCluster(dir.path, 2);
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

/**
 * The CLI as a user runs it — asynchronously: the test process hosts the S3 server the cluster
 * exports to, so blocking it (spawnSync) would stall every export until the CLI gave up.
 */
async function bdv(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(
      process.execPath,
      ['apps/cli/bin/bdv.js', ...args, '--api', cluster.stack.apiUrl],
      { encoding: 'utf8', env: { ...process.env, BDV_API_TOKEN: cluster.stack.token }, timeout: 120_000 },
    );
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { status: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('DELETE /v1/datasets/:id', () => {
  it('stops a view being written, drops the queued ones, removes the outputs and frees the name', async () => {
    const body = {
      name: 'e2e-Cancel',
      layout: 'single',
      setup: { tiles: 4 },
      compression: 'gzip',
      subsamplingZyx: [
        [1, 1, 1],
        [2, 2, 2],
      ],
      blockSizeZyx: [[2, 16, 16]],
    };
    const created = await api.post('/v1/datasets', body);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(
      (await api.post(`/v1/datasets/${id}/views`, { tile: 0, source: { uri: `file://${p('big.npy')}` } }))
        .status,
    ).toBe(202);
    for (const tile of [1, 2, 3])
      expect(
        (
          await api.post(`/v1/datasets/${id}/views`, {
            tile,
            source: { uri: `file://${p(`small${tile - 1}.npy`)}` },
          })
        ).status,
      ).toBe(202);
    // the single layout writes one view at a time: the big one is in hand, the others wait
    await waitUntil('the big view to be written', async () => {
      const views = (await api.get(`/v1/datasets/${id}/views`)).body as { viewKey: string; state: string }[];
      return views.find((v) => v.viewKey === 't0-i0-c0-s0-a0' && v.state === 'running');
    });
    await waitUntil('its first slabs', async () =>
      existsSync(`${cluster.stack.outputDir}/e2e-Cancel/e2e-Cancel.h5.journal`) ? true : undefined,
    );

    const started = Date.now();
    const cancelled = await api.request('DELETE', `/v1/datasets/${id}`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(cancelled.body).toMatchObject({ id, status: 'cancelled' });
    expect(cancelled.body.views.running).toBe(0);
    expect(cancelled.body.views.done + cancelled.body.views.cancelled).toBe(4);
    expect(cancelled.body.views.cancelled).toBeGreaterThanOrEqual(1);
    // the writer stopped the big view between slabs and undid it (it did not run to the end)
    const stopped = cluster.logs.filter((l) =>
      l.line.includes('"dataset cancelled: view stopped and undone"'),
    );
    expect(stopped.map((l) => JSON.parse(l.line).viewKey)).toContain('t0-i0-c0-s0-a0');
    // outputs gone, name free, the record stays as "cancelled"
    expect(existsSync(`${cluster.stack.outputDir}/e2e-Cancel`)).toBe(false);
    expect((await api.get(`/v1/datasets/${id}`)).body.status).toBe('cancelled');
    const again = await api.post('/v1/datasets', { ...body, name: 'e2e-cancel' });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    // nothing more happens to the cancelled one
    expect(
      (await api.post(`/v1/datasets/${id}/views`, { tile: 3, source: { uri: `file://${p('small0.npy')}` } }))
        .status,
    ).toBe(409);
    expect((await api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(409);
    expect((await api.request('DELETE', `/v1/datasets/${id}`)).status).toBe(200);
    expect((await api.request('DELETE', '/v1/datasets/no-such-id')).status).toBe(404);
    expect((await api.request('DELETE', `/v1/datasets/${id}?purge=yes`)).status).toBe(400);
  });

  it('removes a complete dataset only with ?purge=true (bdv cancel --purge)', async () => {
    const created = await api.post('/v1/datasets', {
      name: 'e2e-purge',
      layout: 'partitioned',
      setup: { tiles: 2 },
    });
    const id = created.body.id as string;
    for (const tile of [0, 1])
      await api.post(`/v1/datasets/${id}/views`, {
        tile,
        source: { uri: `file://${p(`small${tile}.npy`)}` },
      });
    await api.post(`/v1/datasets/${id}/finalize`, {});
    expect((await api.waitForDataset(id, ['complete', 'failed'])).status).toBe('complete');
    const folder = `${cluster.stack.outputDir}/e2e-purge`;
    expect(readdirSync(folder).sort()).toEqual(
      expect.arrayContaining([
        'e2e-purge.h5',
        'e2e-purge.xml',
        'e2e-purge-t00000-s00.h5',
        'e2e-purge-t00000-s01.h5',
      ]),
    );

    const refused = await api.request('DELETE', `/v1/datasets/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/is complete: DELETE .*\?purge=true/);
    expect(existsSync(folder)).toBe(true);

    const cli = await bdv('cancel', id, '--purge');
    expect(cli.status, cli.stderr).toBe(0);
    // The purge keeps the copy exported to OUTPUT_BUCKET, and with it the name: a new dataset of
    // that name would export over it, so it is refused before any view is converted.
    expect(cli.stdout).toMatch(
      /e2e-purge \(.*\): cancelled; its files are removed \(the copy exported to s3:\/\/output\/e2e-purge\/ is kept: remove it there to use the name e2e-purge again\)/,
    );
    expect(existsSync(folder)).toBe(false);
    const s3 = cluster.s3();
    const exportedXml = async () =>
      (
        await (
          await s3.send(new GetObjectCommand({ Bucket: 'output', Key: 'e2e-purge/e2e-purge.xml' }))
        ).Body!
      ).transformToString();
    const kept = await exportedXml();
    const taken = await api.post('/v1/datasets', { name: 'e2e-purge', setup: { tiles: 2 } });
    expect(taken.status).toBe(409);
    expect(taken.body.message).toContain(
      `s3://output/e2e-purge/ holds the export of another dataset (${id}): not overwritten`,
    );
    expect(await exportedXml()).toBe(kept);
    // Removed from the bucket (an operator's decision), the name is free again.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'output', Prefix: 'e2e-purge/' }));
    for (const object of listed.Contents ?? [])
      await s3.send(new DeleteObjectCommand({ Bucket: 'output', Key: object.Key! }));
    expect((await api.post('/v1/datasets', { name: 'e2e-purge', setup: { tiles: 2 } })).status).toBe(201);
  });
});

describe('POST /v1/datasets/:id/views/:viewKey/retry', () => {
  it('queues a failed view again and finalizes the dataset again with it', async () => {
    const created = await api.post('/v1/datasets', { name: 'e2e-retry', setup: { tiles: 2 } });
    const id = created.body.id as string;
    await api.post(`/v1/datasets/${id}/views`, { tile: 0, source: { uri: `file://${p('small0.npy')}` } });
    await api.post(`/v1/datasets/${id}/views`, {
      tile: 1,
      source: { uri: `file://${p('flaky.tif')}`, format: 'tiff' },
    });
    await api.post(`/v1/datasets/${id}/finalize`, {});
    const first = await api.waitForDataset(id, ['complete', 'failed']);
    expect(first.status).toBe('complete');
    expect(first.views).toMatchObject({ done: 1, failed: 1 });
    expect(first.errors.join('\n')).toMatch(/t0-i0-c0-s1-a0: .*flaky\.tif/);
    // What to fix: the failed views alone, with their reasons.
    const failed = await api.get(`/v1/datasets/${id}/views?state=failed`);
    expect(failed.status).toBe(200);
    expect(failed.body).toEqual([expect.objectContaining({ viewKey: 't0-i0-c0-s1-a0', state: 'failed' })]);
    expect((failed.body as { error: string }[])[0]!.error).toMatch(/flaky\.tif/);
    const bad = await api.get(`/v1/datasets/${id}/views?state=broken`);
    expect([bad.status, JSON.stringify(bad.body)]).toEqual([
      400,
      expect.stringMatching(/query\.state.*failed/),
    ]);
    const twice = await api.get(`/v1/datasets/${id}/views?state=failed&state=done`);
    expect([twice.status, JSON.stringify(twice.body)]).toEqual([
      400,
      expect.stringMatching(/query\.state.*more than once/),
    ]);
    // In pages: one view each, the next page linked (same limit, after the last key) until the last.
    const page1 = await api.get(`/v1/datasets/${id}/views?limit=1`);
    expect((page1.body as { viewKey: string }[]).map((v) => v.viewKey)).toEqual(['t0-i0-c0-s0-a0']);
    const next = page1.headers.get('link') ?? '';
    expect(next).toBe(`</v1/datasets/${id}/views?after=t0-i0-c0-s0-a0&limit=1>; rel="next"`);
    const page2 = await api.get(next.slice(1, next.indexOf('>')));
    expect((page2.body as { viewKey: string }[]).map((v) => v.viewKey)).toEqual(['t0-i0-c0-s1-a0']);
    expect(page2.headers.get('link')).toBeNull();
    const badLimit = await api.get(`/v1/datasets/${id}/views?limit=0`);
    expect([badLimit.status, JSON.stringify(badLimit.body)]).toEqual([
      400,
      expect.stringMatching(/query\.limit/),
    ]);
    const badAfter = await api.get(`/v1/datasets/${id}/views?after=..%2Fx`);
    expect([badAfter.status, JSON.stringify(badAfter.body)]).toEqual([
      400,
      expect.stringMatching(/query\.after/),
    ]);
    // A cache-buster `_` is taken as it always was; any other parameter it does not know is a 400
    // (`?stat=failed` had listed every view).
    expect((await api.get(`/v1/datasets/${id}/views?_=123`)).body).toHaveLength(2);
    const typo = await api.get(`/v1/datasets/${id}/views?stat=failed`);
    expect([typo.status, typo.body.message]).toEqual([
      400,
      'query.stat: unknown parameter (allowed: state, limit, after)',
    ]);
    const shown = await bdv('status', id);
    expect(shown.stdout).toContain(`failed views, each with its reason: bdv status ${id} --failed`);
    const listed = await bdv('status', id, '--failed');
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^t0-i0-c0-s1-a0 {2}.*flaky\.tif.*\n$/);
    const noId = await bdv('status', '--failed');
    expect(noId.status).not.toBe(0);
    expect(noId.stderr).toMatch(/give its id/);
    const firstXml = (await api.get(`/v1/datasets/${id}/xml`)).body as string;
    expect(firstXml).toMatch(/<MissingView timepoint="0" setup="1"/);
    // Somebody saves registrations into the published XML on the volume (BigStitcher): the next
    // finalize publishes its own XML and sets the edited one aside instead of overwriting it.
    const folder = `${cluster.stack.outputDir}/e2e-retry`;
    const edited = firstXml.replace('</SpimData>', '<!-- registrations -->\n</SpimData>');
    writeFileSync(`${folder}/e2e-retry.xml`, edited);

    expect((await api.post(`/v1/datasets/${id}/views/t0-i0-c0-s0-a0/retry`)).status).toBe(409); // done
    expect((await api.post(`/v1/datasets/${id}/views/t0-i0-c0-s3-a0/retry`)).status).toBe(404); // never submitted

    // the acquisition PC re-exports the stack; the operator retries the view (bdv retry --wait)
    writeTruncatedTiff(p('flaky.tif'), 30);
    const cli = await bdv('retry', id, 't0-i0-c0-s1-a0', '--wait', '--progress', 'none');
    expect(cli.status, cli.stderr + cli.stdout).toBe(0);
    expect(cli.stdout).toContain('view t0-i0-c0-s1-a0 queued again');

    const second = (await api.get(`/v1/datasets/${id}`)).body;
    expect(second).toMatchObject({ status: 'complete', errors: [] });
    expect((await bdv('status', id)).stdout).not.toContain('failed views, each');
    const none = await bdv('status', id, '--failed', '--wait', '--progress', 'none');
    expect([none.status, none.stdout]).toEqual([0, 'no failed views\n']);
    expect(second.views).toMatchObject({ done: 2, failed: 0 });
    const xml = (await api.get(`/v1/datasets/${id}/xml`)).body as string;
    expect(xml).not.toContain('<MissingView ');
    expect(xml).toMatch(/<ViewRegistration timepoint="0" setup="1">/);
    expect(await cluster.redis.hget(`${cluster.prefix}:ds:${id}`, 'generation')).toBe('2');
    const keptAside = readdirSync(folder).filter((n) => /^e2e-retry\.edited-.*\.xml$/.test(n));
    expect(keptAside).toHaveLength(1);
    expect(readFileSync(`${folder}/${keptAside[0]}`, 'utf8')).toBe(edited);
    expect(xml).not.toContain('registrations');
  });
});
