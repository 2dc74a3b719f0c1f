import { S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.mjs';
import { ApiClient } from './api-client.js';
import { freePort } from './free-port.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

/** One log line of a cluster process, parsed (pino JSON) where it is JSON, with when it arrived. */
export interface LogEvent {
  role: string;
  line: string;
  at: number;
  msg?: string;
  fields: Record<string, unknown>;
}

/**
 * Settings of the fault tests: a 5 s write lease (a dead writer's view is taken over in ~7 s), a
 * 10 s finalize lease, and an outage budget far above any outage the tests make.
 */
export const FAULT_ENV = {
  WRITER_LOCK_SECONDS: '5',
  FINALIZER_LOCK_SECONDS: '10',
  OUTAGE_BUDGET_SECONDS: '600',
};

export interface FaultCluster {
  stack: LocalStack;
  redisServer: RedisServer;
  api: ApiClient;
  events: LogEvent[];
  /** A client of the cluster's own Redis (reconnects by itself after a restart). */
  redis: Redis;
  prefix: string;
  s3(): S3Client;
  /** Sends `signal` to a role's process; for SIGKILL / SIGTERM waits until it is gone. */
  signal(role: string, signal: NodeJS.Signals): Promise<void>;
  /** Starts a role again after a kill, waiting for its start-up line. */
  restart(role: string): Promise<void>;
  /** The first event from index `since` on that matches (polls every 10 ms). */
  waitFor(
    match: (e: LogEvent) => boolean,
    options?: { since?: number; timeoutMs?: number },
  ): Promise<LogEvent>;
  /** "view written" lines of a dataset, per view key. */
  writtenCounts(datasetId: string): Record<string, number>;
  /** Waits until /health/ready answers 200 (its probes time out after 3 s on a busy machine). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** A write job's progress (0-100) as its writer last reported it. */
  progress(datasetId: string, viewKey: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A cluster for fault injection, always on local servers the test may stop: its own redis-server
 * (append-only, see redis-server.ts) and its own s3rver on the same port and folder across
 * restarts — never the machine's shared Redis, never testcontainers. API, writers and finalizer
 * are separate processes (scripts/local-stack.mjs) a test can kill, pause and start again.
 */
export async function startFaultCluster(
  workDir: string,
  {
    writers = 2,
    env = {},
    fileRoots = [workDir],
  }: { writers?: number; env?: Record<string, string>; fileRoots?: string[] } = {},
): Promise<FaultCluster> {
  const redisServer = await startRedisServer(join(workDir, 'redis'));
  const prefix = `fault-${randomBytes(4).toString('hex')}`;
  const events: LogEvent[] = [];
  const stack = await startLocalStack({
    workDir,
    s3Port: await freePort(),
    apiPort: await freePort(),
    redisUrl: redisServer.url,
    prefix,
    writers,
    token: `test-token-${prefix}`,
    fileRoots,
    env: { LOG_LEVEL: 'info', ...FAULT_ENV, ...env },
    // Several clusters start at once on two busy cores.
    startTimeoutMs: 120_000,
    onLog: (role, line) => {
      events.push(parse(role, line));
      if (process.env.E2E_VERBOSE) process.stdout.write(`${role} | ${line}\n`);
    },
  }).catch(async (error: unknown) => {
    await redisServer.stop('SIGKILL');
    throw error;
  });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // down on purpose during the Redis tests
  const clients: S3Client[] = [];

  const waitFor: FaultCluster['waitFor'] = async (match, { since = 0, timeoutMs = 60_000 } = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (let i = since; ;) {
      for (; i < events.length; i++) if (match(events[i]!)) return events[i]!;
      if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  return {
    stack,
    redisServer,
    api: new ApiClient(stack.apiUrl, stack.token),
    events,
    redis,
    prefix,
    s3() {
      const client = new S3Client({
        endpoint: stack.s3Endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      clients.push(client);
      return client;
    },
    async signal(role, signal) {
      const child = stack.child(role);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') await gone;
    },
    async restart(role) {
      const since = events.length;
      stack.startRole(role);
      if (role !== 'api')
        await waitFor((e) => e.role === role && e.msg === 'worker started', { since, timeoutMs: 90_000 });
    },
    waitFor,
    writtenCounts(datasetId) {
      const counts: Record<string, number> = {};
      for (const e of events)
        if (e.msg === 'view written' && e.fields.datasetId === datasetId) {
          const key = String(e.fields.viewKey);
          counts[key] = (counts[key] ?? 0) + 1;
        }
      return counts;
    },
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ready = await this.api.get('/health/ready');
        if (ready.status === 200) return;
        if (Date.now() > deadline) throw new Error(`not ready: ${JSON.stringify(ready.body)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    async progress(datasetId, viewKey) {
      const value = await redis.hget(`${prefix}:bdv-write-view:${datasetId}.${viewKey}`, 'progress');
      return Number(value ?? 0);
    },
    async stop() {
      try {
        for (const c of clients) c.destroy();
        for (const { child } of stack.children) if (child.signalCode === null) child.kill('SIGCONT');
        await stack.stop();
      } finally {
        redis.disconnect();
        await redisServer.stop();
      }
    },
  };
}

function parse(role: string, line: string): LogEvent {
  const event: LogEvent = { role, line, at: Date.now(), fields: {} };
  if (line.startsWith('{')) {
    try {
      const fields = JSON.parse(line) as Record<string, unknown>;
      event.fields = fields;
      if (typeof fields.msg === 'string') event.msg = fields.msg;
    } catch {
      // not JSON after all
    }
  }
  return event;
}
