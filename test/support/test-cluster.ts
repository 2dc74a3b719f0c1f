import { S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.mjs';
import { freePort } from './free-port.js';
import { startInfrastructure, type Infrastructure } from './test-infrastructure.js';

export interface TestCluster {
  stack: LocalStack;
  infrastructure: Infrastructure;
  redis: Redis;
  prefix: string;
  logs: { role: string; line: string }[];
  /** An S3 client on the cluster's object store (to put raw objects as an acquisition PC would). */
  s3(): S3Client;
  stop(): Promise<void>;
}

/**
 * A real cluster for e2e tests: real Redis and S3 (see test-infrastructure.ts), the API and workers
 * as separate processes. Each test file gets its own key prefix, ports and folders; `env` adds
 * settings of every process (e.g. SOURCE_BUCKETS).
 */
export async function startTestCluster(
  workDir: string,
  writers = 2,
  env: Record<string, string> = {},
): Promise<TestCluster> {
  const infrastructure = await startInfrastructure();
  const prefix = `e2e-${randomBytes(4).toString('hex')}`;
  const logs: { role: string; line: string }[] = [];
  const stack = await startLocalStack({
    workDir,
    s3Port: await freePort(),
    apiPort: await freePort(),
    redisUrl: infrastructure.redisUrl,
    s3Endpoint: infrastructure.s3Endpoint,
    s3Credentials: infrastructure.s3Credentials,
    prefix,
    writers,
    token: `test-token-${prefix}`, // API_TOKENS must be >= 16 characters
    fileRoots: [workDir],
    env: { LOG_LEVEL: 'info', ...env },
    onLog: (role, line) => {
      logs.push({ role, line });
      if (process.env.E2E_VERBOSE) process.stdout.write(`${role} | ${line}\n`);
    },
  });
  const redis = new Redis(infrastructure.redisUrl);
  const clients: S3Client[] = [];
  return {
    stack,
    infrastructure,
    redis,
    prefix,
    logs,
    s3() {
      const client = new S3Client({
        endpoint: stack.s3Endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: infrastructure.s3Credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await stack.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await infrastructure.stop();
    },
  };
}
