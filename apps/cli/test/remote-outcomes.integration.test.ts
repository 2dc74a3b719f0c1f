import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../test/support/api-client.js';
import { writeBeadNpy } from '../../../test/support/bead-stacks.js';
import { tempDir } from '../../../test/support/oracle.js';
import { writeTruncatedTiff } from '../../../test/support/truncated-tiff.js';
import { startTestCluster, type TestCluster } from '../../../test/support/test-cluster.js';

// The cluster commands as a facility user scripts them, against a real stack (Redis, S3, the API,
// a writer and the finalizer as processes): `--wait` ends with an exit code that says whether
// every view made it (0), some failed (2), the dataset failed or was cancelled (3), or nobody
// asked for a finalize (4, instead of waiting for ever); `bdv finalize`; a cancelled dataset's
// report; `bdv batch --voxel-size/--unit`.

const dir = tempDir('bdv-remote-outcomes-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let api: ApiClient;

beforeAll(async () => {
  for (const i of [0, 1])
    writeBeadNpy(p(`small${i}.npy`), [3, 30, 30], [{ z: 1, y: 1, x: 1, size: 3, value: 999 }]);
  // big enough that the one writer is still at it when the dataset is cancelled
  writeBeadNpy(p('big.npy'), [320, 512, 512], [{ z: 10, y: 10, x: 10, size: 8, value: 4000 }]);
  writeTruncatedTiff(p('flaky.tif'), 20);
  mkdirSync(p('batch'));
  for (const tile of [0, 1])
    writeBeadNpy(p(`batch/t0_s${tile}.npy`), [3, 20, 20], [{ z: 1, y: 1, x: 1, size: 2, value: 500 }]);
  cluster = await startTestCluster(dir.path, 1, { WRITER_CONCURRENCY: '1' });
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

/**
 * The CLI as a user runs it — asynchronously (the test process may host the S3 server the cluster
 * exports to); a run that has not ended after `timeoutMs` is killed (status null): it hung.
 */
function bdv(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['apps/cli/bin/bdv.js', ...args],
      {
        encoding: 'utf8',
        timeout: timeoutMs,
        env: { ...process.env, BDV_API_URL: cluster.stack.apiUrl, BDV_API_TOKEN: cluster.stack.token },
      },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number; killed?: boolean }) | null;
        done({ status: e ? (e.killed ? null : (e.code ?? 1)) : 0, stdout, stderr });
      },
    );
  });
}

/** A manifest of file:// views (tiles 0, 1, …) written beside the inputs. */
function manifest(name: string, files: string[]): string {
  const path = p(`${name}.json`);
  const views = files.map((f, tile) => ({ tile, source: { uri: `file://${p(f)}` } }));
  writeFileSync(path, JSON.stringify({ dataset: { name, setup: { tiles: files.length } }, views }));
  return path;
}

const idIn = (stdout: string) => /^dataset \S+: (\S+)$/m.exec(stdout)![1]!;

describe('bdv finalize, and --wait on a dataset nobody finalized', () => {
  it('submit --no-finalize --wait stops with exit 4 and the hint; status says it; finalize --wait completes it', async () => {
    const submitted = await bdv([
      'submit',
      '-m',
      manifest('open-one', ['small0.npy', 'small1.npy']),
      '--no-finalize',
      '--wait',
      '--progress',
      'none',
    ]);
    const id = idIn(submitted.stdout);
    expect(submitted.status, submitted.stderr).toBe(4);
    expect(submitted.stderr).toContain(`waits for a finalize`);
    expect(submitted.stderr).toContain(`run bdv finalize ${id}`);

    const shown = await bdv(['status', id]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('views: 2 done, 0 failed, 0 running, 0 queued');
    expect(shown.stdout).toContain(`waits for a finalize`);
    expect(shown.stdout).toContain(`bdv finalize ${id}`);
    const waited = await bdv(['status', id, '--wait', '--progress', 'lines']);
    expect([waited.status, waited.stderr]).toEqual([4, expect.stringContaining(`bdv finalize ${id}`)]);

    const finalized = await bdv(['finalize', id, '--wait', '--progress', 'none']);
    expect(finalized.status, finalized.stderr).toBe(0);
    expect(finalized.stdout).toMatch(/open-one \(.*\): complete\n {2}views: 2 done, 0 failed/);
    expect(finalized.stdout).not.toContain('waits for a finalize');
    const again = await bdv(['finalize', id, '--json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id, status: 'complete', finalizeRequested: true });
    const unknown = await bdv(['finalize', 'no-such-dataset']);
    expect([unknown.status, unknown.stderr]).toEqual([1, expect.stringMatching(/^bdv: error: POST .* 404/)]);
    expect((await bdv(['finalize', '--help'])).stdout).toMatch(/Exit codes with --wait:[\s\S]* 4 {2}/);
  });
});

describe('--wait exit codes', () => {
  it('exits 2 when the dataset completes with failed views: submit, status and retry --wait', async () => {
    const submitted = await bdv([
      'submit',
      '-m',
      manifest('part-failed', ['small0.npy', 'flaky.tif']),
      '--wait',
    ]);
    const id = idIn(submitted.stdout);
    expect(submitted.status, submitted.stderr).toBe(2);
    expect(submitted.stdout).toContain('complete\n  views: 1 done, 1 failed');
    expect(submitted.stderr).toContain(`complete without 1 failed view(s)`);
    expect(submitted.stderr).toContain(`bdv status ${id} --failed`);
    expect((await bdv(['status', id, '--wait'])).status).toBe(2);
    expect((await bdv(['status', id])).status).toBe(0); // a report, not a wait
    const listed = await bdv(['status', id, '--failed', '--wait']);
    expect([listed.status, listed.stdout]).toEqual([2, expect.stringMatching(/^t0-i0-c0-s1-a0 {2}.*flaky/)]);

    const stillBad = await bdv(['retry', id, 't0-i0-c0-s1-a0', '--wait', '--progress', 'none']);
    expect(stillBad.status, stillBad.stderr).toBe(2);
    writeTruncatedTiff(p('flaky.tif'), 30);
    const fixed = await bdv(['retry', id, 't0-i0-c0-s1-a0', '--wait', '--progress', 'none']);
    expect(fixed.status, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('2 done, 0 failed');
    writeTruncatedTiff(p('flaky.tif'), 20);
    expect((await bdv(['submit', '--help'])).stdout).toMatch(
      /Exit codes with --wait:[\s\S]* 2 {2}complete, but/,
    );
  });

  it('exits 3 when the dataset failed (no view was written)', async () => {
    const submitted = await bdv(['submit', '-m', manifest('all-failed', ['flaky.tif']), '--wait']);
    expect(submitted.status, submitted.stderr).toBe(3);
    expect(submitted.stdout).toMatch(/all-failed \(.*\): failed/);
    expect(submitted.stderr).toMatch(/all-failed \(.*\) failed: its XML was not written/);
  });
});

describe('a cancelled dataset', () => {
  it('shows its cancelled views and no output paths; --wait exits 3', async () => {
    const created = await api.post('/v1/datasets', {
      name: 'to-cancel',
      setup: { tiles: 3 },
      compression: 'gzip',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (const [tile, file] of ['big.npy', 'small0.npy', 'small1.npy'].entries())
      expect(
        (await api.post(`/v1/datasets/${id}/views`, { tile, source: { uri: `file://${p(file)}` } })).status,
      ).toBe(202);
    const cancelled = await bdv(['cancel', id]);
    expect(cancelled.status, cancelled.stderr).toBe(0);
    const counts = (await api.get(`/v1/datasets/${id}`)).body.views as { cancelled?: number };
    expect(counts.cancelled).toBeGreaterThan(0);

    const shown = await bdv(['status', id]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`to-cancel (${id}): cancelled`);
    expect(shown.stdout).toContain(`, ${counts.cancelled} cancelled`);
    expect(shown.stdout).toContain('files: removed (cancelled)');
    expect(shown.stdout).not.toMatch(/HDF5:|XML:|\.h5|\.xml/);
    const waited = await bdv(['status', id, '--wait', '--progress', 'none']);
    expect([waited.status, waited.stderr]).toEqual([3, expect.stringContaining('was cancelled')]);
  });

  it('purged after its export: the kept copy is named, and it is what keeps the name taken', async () => {
    const submitted = await bdv(['submit', '-m', manifest('exported', ['small0.npy']), '--wait']);
    expect(submitted.status, submitted.stderr).toBe(0);
    const id = idIn(submitted.stdout);
    const purged = await bdv(['cancel', id, '--purge']);
    expect(purged.stdout).toContain('the copy exported to s3://output/exported/ is kept');
    const shown = await bdv(['status', id]);
    expect(shown.stdout).toContain('files: removed (cancelled)');
    expect(shown.stdout).toContain('exported copy kept: s3://output/exported/');
    expect(shown.stdout).not.toMatch(/HDF5:|XML:/);
    // what the help now says: the name stays taken while the exported copy is there
    expect((await api.post('/v1/datasets', { name: 'exported' })).status).toBe(409);
    const help = (await bdv(['cancel', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('its name free again — unless a copy was exported to the output bucket');
    expect(help).toContain('holds the name until it is removed there');
  });
});

describe('bdv batch --voxel-size/--unit', () => {
  it('gives every view the voxel size and unit', async () => {
    const run = await bdv([
      'batch',
      `file://${p('batch')}/`,
      '-p',
      't{time}_s{tile}.npy',
      '--name',
      'batch-voxels',
      '--voxel-size',
      '0.5,0.5,2',
      '--unit',
      'um',
      '--wait',
      '--progress',
      'none',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const id = /batch-voxels \((\S+)\): complete/.exec(run.stdout)![1]!;
    const xml = (await api.get(`/v1/datasets/${id}/xml`)).body as string;
    const sizes = [...xml.matchAll(/<voxelSize>\s*<unit>(.*?)<\/unit>\s*<size>(.*?)<\/size>/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(sizes).toEqual([
      ['um', '0.5 0.5 2'],
      ['um', '0.5 0.5 2'],
    ]);
  });

  it('checks them as bdv convert does, before asking the cluster', async () => {
    const batch = (...extra: string[]) =>
      bdv([
        'batch',
        `file://${p('batch')}/`,
        '-p',
        't{time}_s{tile}.npy',
        '--name',
        'batch-bad',
        '--dry-run',
        ...extra,
      ]);
    expect(await batch('--voxel-size', '1,1')).toMatchObject({
      status: 1,
      stderr: 'bdv: error: --voxel-size: expected 3 numbers like 1,2,3; got "1,1"\n',
    });
    expect(await batch('--voxel-size', '0,0,1')).toMatchObject({
      status: 1,
      stderr: 'bdv: error: --voxel-size: must be 1e-9..1e9 in any unit\n',
    });
    expect(await batch('--unit', '')).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^bdv: error: --unit: /),
    });
  });
});
