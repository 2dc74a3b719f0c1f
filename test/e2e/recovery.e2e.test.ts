import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { comparePixels, makeStacks, tempDir } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

// Recovery latency with the default write lease (WRITER_LOCK_SECONDS=15): a writer killed with -9
// in the middle of a view loses it to another writer within 30 s, and the view is written once.

const dir = tempDir('bdv-recovery-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let api: ApiClient;

beforeAll(async () => {
  makeStacks(dir.path, [{ path: p('big.npy'), shape: [96, 512, 512], seed: 3 }]);
  cluster = await startTestCluster(dir.path, 2);
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

/** The first log line (from `since` on) that matches, and when it was seen. */
async function waitForLog(match: (role: string, line: string) => boolean, since: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = cluster.logs.slice(since).find((l) => match(l.role, l.line));
    if (hit) return { ...hit, at: Date.now() };
    if (Date.now() > deadline) throw new Error('no such log line in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a writer killed mid-view', () => {
  it('has its view taken over by another writer within 30 s, written once, pixels intact', async () => {
    const created = await api.post('/v1/datasets', {
      name: 'recovery',
      compression: 'gzip',
      layout: 'single',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const mark = cluster.logs.length;
    const submitted = await api.post(`/v1/datasets/${id}/views`, {
      source: { uri: `file://${p('big.npy')}` },
    });
    expect(submitted.status).toBe(202);
    await api.post(`/v1/datasets/${id}/finalize`, {});
    const started = await waitForLog(
      (_, line) => line.includes('"writing view"') && line.includes(id),
      mark,
      30_000,
    );
    const victim = cluster.stack.children.find((c) => c.role === started.role)!.child;
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    const afterKill = cluster.logs.length;
    const takenOver = await waitForLog(
      (role, line) => role !== started.role && line.includes('"writing view"') && line.includes(id),
      afterKill,
      60_000,
    );
    const seconds = (takenOver.at - killedAt) / 1000;
    process.stdout.write(`recovery: view taken over ${seconds.toFixed(1)} s after the kill\n`);
    expect(seconds).toBeLessThan(30);
    const done = await api.waitForDataset(id, ['complete', 'failed'], 120_000);
    expect(done.status).toBe('complete');
    expect(cluster.logs.filter((l) => l.line.includes('"view written"') && l.line.includes(id))).toHaveLength(
      1,
    );
    const [view] = comparePixels({
      h5: done.files.h5,
      subsampling_zyx: [[1, 1, 1]],
      views: [{ time: 0, setup: 0, npy: p('big.npy') }],
    });
    expect(view!.levels[0]!.mismatches).toBe(0);
  });
});
