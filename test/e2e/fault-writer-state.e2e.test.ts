import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WRITE_QUEUE } from '@bdv-cluster/pipeline';
import { Queue } from 'bullmq';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIntactDataset, type ExpectedView } from '../support/fault-checks.js';
import { startFaultCluster, type FaultCluster, type LogEvent } from '../support/fault-cluster.js';
import { FAULT_SUBSAMPLING, secondsSince, sleep, tileViews } from '../support/fault-views.js';
import { makeStacks, tempDir } from '../support/oracle.js';

// What a writer does when the state around it is not what it expects (fault review of the
// writers), on one cluster of real processes, one scenario after the other:
// - its write job disappears while it writes (the queue obliterated by a BullMQ client — the board is read-only; Redis
//   restarted empty): it must not crash, must undo the view and go on with the next job;
// - its OUTPUT_DIR is not where the API puts the dataset's files (the volume mounted elsewhere),
//   or is missing (the volume not mounted): it must not write the files onto its local disk;
// - its clock is 3 h ahead of the others': a short outage must not count as 3 h of one.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = tempDir('bdv-fault-writer-state-');
const workDir = join(dir.path, 'cluster');
const views = (prefix: string, n: number) => tileViews(dir.path, prefix, n);
// A view that takes seconds to write (96 MiB, gzip level 9, 4 MiB slabs; see fault-leases): the
// job can be taken away in the middle of it.
const SLOW = { compression: 'gzip', compressionLevel: 9, blockSizeZyx: [[8, 64, 64]] };
const slow = views('slow', 2)[1]!;
const small = views('small', 2);
const SKEW_MS = 3 * 3600 * 1000;
const skewPreload = join(dir.path, 'skewed-clock.mjs');

let cluster: FaultCluster;
/** Writer processes this file starts besides the cluster's own. */
const extra: ChildProcess[] = [];

beforeAll(async () => {
  makeStacks(dir.path, [
    { path: slow.npy, shape: [192, 512, 512], seed: 41 },
    ...small.map((v) => ({ path: v.npy, shape: [16, 128, 128], seed: 50 + v.tile })),
  ]);
  // A clock that is off as a badly synchronised machine's is: Date.now only (timers run as usual).
  writeFileSync(
    skewPreload,
    `const offset = Number(process.env.BDV_TEST_CLOCK_OFFSET_MS);\nconst now = Date.now;\nDate.now = () => now() + offset;\n`,
  );
  cluster = await startFaultCluster(workDir, { writers: 1, fileRoots: [dir.path] });
}, 180_000);

afterAll(async () => {
  for (const child of extra) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster?.stop();
  dir.remove();
});

/** A writer started by the test with settings of its own, its log lines in `cluster.events`. */
function startWriter(
  role: string,
  { env = {}, execArgv = [] }: { env?: Record<string, string>; execArgv?: string[] } = {},
): ChildProcess {
  const child = spawn(process.execPath, [...execArgv, join(root, 'apps/worker/dist/main.js')], {
    env: { ...cluster.stack.env, WORKER_ROLE: 'writer', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        cluster.events.push(parse(role, line));
        if (process.env.E2E_VERBOSE) process.stdout.write(`${role} | ${line}\n`);
      }
    });
  }
  extra.push(child);
  return child;
}

function parse(role: string, line: string): LogEvent {
  const event: LogEvent = { role, line, at: Date.now(), fields: {} };
  try {
    event.fields = JSON.parse(line) as Record<string, unknown>;
    if (typeof event.fields.msg === 'string') event.msg = event.fields.msg;
  } catch {
    // not JSON
  }
  return event;
}

const alive = (child: ChildProcess | undefined) =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

/** The cluster's writer-1, started again if an earlier scenario ended it. */
async function writerOne(): Promise<ChildProcess> {
  if (!alive(cluster.stack.child('writer-1'))) await cluster.restart('writer-1');
  return cluster.stack.child('writer-1')!;
}

async function stop(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

/** What a role said, for failure messages. */
const said = (role: string, since = 0) =>
  cluster.events
    .slice(since)
    .filter((e) => e.role === role)
    .map((e) => e.line)
    .slice(-30)
    .join('\n');

async function register(name: string, tiles: number, spec: Record<string, unknown> = {}): Promise<string> {
  const created = await cluster.api.post('/v1/datasets', {
    name,
    setup: { tiles },
    compression: 'gzip',
    subsamplingZyx: FAULT_SUBSAMPLING,
    ...spec,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

async function addView(id: string, tile: number, uri: string): Promise<void> {
  const r = await cluster.api.post(`/v1/datasets/${id}/views`, { tile, source: { uri } });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
}

async function viewOf(id: string, viewKey: string): Promise<{ state: string; error?: string }> {
  const { body } = await cluster.api.get(`/v1/datasets/${id}/views`);
  return (body as { viewKey: string; state: string; error?: string }[]).find((v) => v.viewKey === viewKey)!;
}

/** Until `probe` gives a value, or the writer `child` died (then the test fails, with its log). */
async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  { child, role = '', timeoutMs = 60_000 }: { child?: ChildProcess; role?: string; timeoutMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (child && !alive(child))
      throw new Error(
        `${role} exited (${child.exitCode ?? child.signalCode}) before ${what}:\n${said(role)}`,
      );
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${said(role)}`);
    await sleep(20);
  }
}

/** Waits until the view is well under way (its job's progress between 5 and 60 %). */
async function midWrite(id: string, view: ExpectedView, child: ChildProcess): Promise<void> {
  await until(
    `${view.viewKey} under way`,
    async () => {
      if (cluster.writtenCounts(id)[view.viewKey]) throw new Error(`${view.viewKey} was written too soon`);
      const progress = await cluster.progress(id, view.viewKey);
      return progress >= 5 && progress <= 60 ? true : undefined;
    },
    { child, role: 'writer-1', timeoutMs: 120_000 },
  );
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const leftovers = (folder: string) =>
  (existsSync(folder) ? readdirSync(folder) : []).filter((f) => /\.(journal|tmp)$/.test(f));

describe('writer state faults', () => {
  it('single layout: the write queue obliterated (a BullMQ client, force) mid-append — the writer lives, rolls the append back and marks the view failed; retried, the dataset completes intact', async () => {
    const started = Date.now();
    try {
      const writer = await writerOne();
      const name = 'obliterated';
      const id = await register(name, 2, { ...SLOW, layout: 'single' });
      const [first, second] = [small[0]!, slow];
      await addView(id, 0, `file://${first.npy}`);
      await until('the first view written', () =>
        cluster.writtenCounts(id)[first.viewKey] ? true : undefined,
      );
      const h5 = join(cluster.stack.outputDir, name, `${name}.h5`);
      const committed = sha256(h5);

      const since = cluster.events.length;
      await addView(id, 1, `file://${second.npy}`);
      await midWrite(id, second, writer);
      const queue = new Queue(WRITE_QUEUE, {
        connection: { host: '127.0.0.1', port: cluster.redisServer.port },
        prefix: cluster.prefix,
      });
      try {
        await queue.obliterate({ force: true });
        const undone = await until(
          'the writer to give the view up',
          () =>
            cluster.events
              .slice(since)
              .find(
                (e) =>
                  e.role === 'writer-1' && e.fields.viewKey === second.viewKey && /undone/.test(e.msg ?? ''),
              ),
          { child: writer, role: 'writer-1' },
        );
        expect(undone.msg).toMatch(/removed/);
        await sleep(1000);
        expect(alive(writer), said('writer-1', since)).toBe(true);
        // The append is rolled back: the file is byte for byte the committed one, no journal.
        expect(leftovers(dirname(h5))).toEqual([]);
        expect(sha256(h5)).toBe(committed);
        const failed = await viewOf(id, second.viewKey);
        expect(failed).toMatchObject({
          state: 'failed',
          error: expect.stringMatching(/removed from the queue/),
        });
        // Progress updates that failed were logged, not once per slab.
        const noted = cluster.events.slice(since).filter((e) => e.msg === 'progress not recorded');
        expect(noted.length).toBeLessThanOrEqual(2);

        // The operator resumes the queue (obliterate paused it) and retries the view.
        await queue.resume();
      } finally {
        await queue.close();
      }
      expect((await cluster.api.post(`/v1/datasets/${id}/views/${second.viewKey}/retry`)).status).toBe(202);
      expect((await cluster.api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(202);
      const done = await cluster.api.waitForDataset(id, ['complete', 'failed'], 180_000);
      expect(done.status, JSON.stringify(done.errors)).toBe('complete');
      await expectIntactDataset(cluster, id, [first, second], FAULT_SUBSAMPLING);
    } finally {
      process.stdout.write(`fault-writer-state obliterate: ${secondsSince(started)}\n`);
    }
  }, 400_000);

  it('partitioned: Redis restarted empty mid-write — the writer lives, deletes the staged partition and takes the next job', async () => {
    const started = Date.now();
    try {
      const writer = await writerOne();
      const name = 'wiped';
      const id = await register(name, 2, { ...SLOW, layout: 'partitioned' });
      const view = slow;
      const since = cluster.events.length;
      await addView(id, 1, `file://${view.npy}`);
      await midWrite(id, view, writer);
      await cluster.redisServer.stop('SIGKILL');
      rmSync(join(workDir, 'redis'), { recursive: true, force: true });
      mkdirSync(join(workDir, 'redis'));
      await cluster.redisServer.start();
      await until(
        'the writer to give the view up',
        () =>
          cluster.events
            .slice(since)
            .find(
              (e) => e.role === 'writer-1' && e.fields.viewKey === view.viewKey && /undone/.test(e.msg ?? ''),
            ),
        { child: writer, role: 'writer-1' },
      );
      await sleep(1000);
      expect(alive(writer), said('writer-1', since)).toBe(true);
      expect(leftovers(join(cluster.stack.outputDir, name))).toEqual([]);

      // The same writer takes the next dataset.
      const next = await register('after-wipe', 2);
      for (const v of small) await addView(next, v.tile, `file://${v.npy}`);
      expect((await cluster.api.post(`/v1/datasets/${next}/finalize`, {})).status).toBe(202);
      const done = await cluster.api.waitForDataset(next, ['complete', 'failed'], 120_000);
      expect(done.status, JSON.stringify(done.errors)).toBe('complete');
      await expectIntactDataset(cluster, next, small, FAULT_SUBSAMPLING);
      expect(alive(writer)).toBe(true);
    } finally {
      process.stdout.write(`fault-writer-state redis wiped: ${secondsSince(started)}\n`);
    }
  }, 300_000);

  it("a writer whose OUTPUT_DIR is not the API's refuses the dataset (permanent, naming both paths) and writes nothing", async () => {
    const started = Date.now();
    const elsewhere = join(workDir, 'mounted-elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    await stop(await writerOne());
    const writer = startWriter('writer-elsewhere', { env: { OUTPUT_DIR: elsewhere } });
    try {
      const name = 'elsewhere';
      const id = await register(name, 1, { layout: 'partitioned' });
      await addView(id, 0, `file://${small[0]!.npy}`);
      const view = await until(
        'the view to settle',
        async () => {
          const v = await viewOf(id, small[0]!.viewKey);
          return v.state === 'failed' || v.state === 'done' ? v : undefined;
        },
        { child: writer, role: 'writer-elsewhere' },
      );
      const h5 = join(cluster.stack.outputDir, name, `${name}.h5`);
      expect(view.state).toBe('failed');
      expect(view.error).toContain(h5);
      expect(view.error).toContain(elsewhere);
      expect(view.error).toMatch(/mount the output volume at the same path/);
      expect(existsSync(dirname(h5))).toBe(false);
      expect(readdirSync(elsewhere)).toEqual([]);
      expect(alive(writer)).toBe(true);
    } finally {
      await stop(writer);
      process.stdout.write(`fault-writer-state mounted elsewhere: ${secondsSince(started)}\n`);
    }
  }, 180_000);

  it('a writer without its output folder does not create it: it will not start, and a view in hand waits ("is the volume mounted?") until the folder is back', async () => {
    const started = Date.now();
    const missing = join(workDir, 'not-mounted', 'output');
    const refused = startWriter('writer-unmounted', { env: { OUTPUT_DIR: missing } });
    const code = await until('the unmounted writer to exit or start', () =>
      !alive(refused)
        ? (refused.exitCode ?? -1)
        : cluster.events.some((e) => e.role === 'writer-unmounted' && e.msg === 'worker started')
          ? 'started'
          : undefined,
    );
    await stop(refused);
    expect(code, said('writer-unmounted')).toBe(1);
    expect(said('writer-unmounted')).toContain(`output folder ${missing} missing: is the volume mounted?`);
    expect(existsSync(missing)).toBe(false);

    // The volume goes away under a running writer.
    const writer = await writerOne();
    const output = cluster.stack.outputDir;
    renameSync(output, `${output}.away`);
    let back = false;
    try {
      const name = 'unmounted';
      const id = await register(name, 1, { layout: 'partitioned' });
      const view = small[0]!;
      await addView(id, 0, `file://${view.npy}`);
      expect((await cluster.api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(202);
      const reason = await until(
        'the view to wait',
        async () => {
          const { body } = await cluster.api.get(`/v1/datasets/${id}`);
          expect(body.views.failed ?? 0).toBe(0);
          return Object.values(body.waiting as Record<string, string>)[0];
        },
        { child: writer, role: 'writer-1' },
      );
      expect(reason).toContain(`output folder ${output} missing: is the volume mounted?`);
      expect(existsSync(output)).toBe(false);
      renameSync(`${output}.away`, output);
      back = true;
      const done = await cluster.api.waitForDataset(id, ['complete', 'failed'], 120_000);
      expect(done.status, JSON.stringify(done.errors)).toBe('complete');
      await expectIntactDataset(cluster, id, [view], FAULT_SUBSAMPLING);
    } finally {
      if (!back) {
        rmSync(output, { recursive: true, force: true });
        renameSync(`${output}.away`, output);
      }
      process.stdout.write(`fault-writer-state not mounted: ${secondsSince(started)}\n`);
    }
  }, 240_000);

  it('a writer whose clock is 3 h ahead takes over a view waiting out an outage: it waits on, it does not fail it as 3 h old', async () => {
    const started = Date.now();
    const view = small[0]!;
    await cluster
      .s3()
      .send(new PutObjectCommand({ Bucket: 'raw', Key: 'skew/s0.npy', Body: readFileSync(view.npy) }));
    await stop(await writerOne());
    let skewed: ChildProcess | undefined;
    let s3Down = false;
    try {
      const id = await register('skewed', 1, { layout: 'partitioned' });
      await addView(id, 0, 's3://raw/skew/s0.npy');
      expect((await cluster.api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(202);
      await cluster.stack.stopS3();
      s3Down = true;
      const down = Date.now();
      // A writer with a good clock meets the outage first: the view starts waiting.
      let since = cluster.events.length;
      await cluster.restart('writer-1');
      const writer = cluster.stack.child('writer-1')!;
      await until(
        'writer-1 to wait out the outage',
        () =>
          cluster.events
            .slice(since)
            .find((e) => e.role === 'writer-1' && e.msg === 'outage: waiting' && e.fields.datasetId === id),
        { child: writer, role: 'writer-1' },
      );
      await stop(writer);
      // The writer 3 h ahead takes the view over while the outage goes on (25 s in all).
      since = cluster.events.length;
      skewed = startWriter('writer-skewed', {
        env: { BDV_TEST_CLOCK_OFFSET_MS: String(SKEW_MS) },
        execArgv: ['--import', pathToFileURL(skewPreload).href],
      });
      const outcome = await until(
        'the skewed writer to try the view',
        () =>
          cluster.events
            .slice(since)
            .find(
              (e) =>
                e.role === 'writer-skewed' &&
                String(e.fields.jobId).includes(id) &&
                (e.msg === 'outage: waiting' || /fail/.test(e.msg ?? '')),
            ),
        { child: skewed, role: 'writer-skewed', timeoutMs: 90_000 },
      );
      // Its clock is off indeed (pino's time is Date.now's).
      expect(Number(outcome.fields.time) - outcome.at).toBeGreaterThan(SKEW_MS - 60_000);
      expect(outcome.msg, outcome.line).toBe('outage: waiting');
      expect((await viewOf(id, view.viewKey)).state).not.toBe('failed');
      await sleep(Math.max(0, down + 25_000 - Date.now()));
      await cluster.stack.startS3();
      s3Down = false;
      const done = await cluster.api.waitForDataset(id, ['complete', 'failed'], 180_000);
      expect(done.status, JSON.stringify(done.errors)).toBe('complete');
      expect(cluster.events.some((e) => e.role === 'writer-skewed' && e.msg === 'view written')).toBe(true);
      await expectIntactDataset(cluster, id, [view], FAULT_SUBSAMPLING);
    } finally {
      if (s3Down) await cluster.stack.startS3();
      if (skewed) await stop(skewed);
      process.stdout.write(`fault-writer-state skewed clock: ${secondsSince(started)}\n`);
    }
  }, 300_000);
});
