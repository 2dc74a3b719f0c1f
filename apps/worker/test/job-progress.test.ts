import { Queue } from 'bullmq';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressReporter } from '../src/writer/job-progress.js';
import { tempDir } from '../../../test/support/oracle.js';
import { startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';

// Progress updates of a job that is no longer in Redis, with BullMQ on a Redis server of its own.

const dir = tempDir('bdv-job-progress-');
let redis: RedisServer;
let queue: Queue;

beforeAll(async () => {
  redis = await startRedisServer(dir.path);
  queue = new Queue('progress-test', { connection: { host: '127.0.0.1', port: redis.port } });
});

afterAll(async () => {
  await queue?.close();
  await redis?.stop();
  dir.remove();
});

/** A logger whose lines the test reads. */
function capturedLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino(sink), lines };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('progressReporter', () => {
  it('records progress on the job', async () => {
    const job = await queue.add('view', {});
    const { log, lines } = capturedLog();
    progressReporter(job, log, () => undefined)({ bytesDone: 1, bytesTotal: 4 });
    await settle();
    expect((await queue.getJob(job.id!))?.progress).toBe(25);
    expect(lines).toEqual([]);
  });

  it('of a job removed from Redis: reports it gone, logs once for many slabs, and leaves no rejection', async () => {
    const job = await queue.add('view', {});
    await job.remove();
    const { log, lines } = capturedLog();
    let gone = 0;
    const report = progressReporter(job, log, () => gone++);
    for (let slab = 1; slab <= 5; slab++) report({ bytesDone: slab, bytesTotal: 5 });
    await settle();
    // (an unhandled rejection would fail this test file: vitest reports them as errors)
    expect(gone).toBe(5);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'progress not recorded',
      reason: expect.stringMatching(/^Missing key for job/),
    });
  });
});
