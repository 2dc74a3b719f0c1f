import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.mjs';
import { freePort } from './free-port.js';

export interface TestCluster {
  stack: LocalStack;
  redis: Redis;
  prefix: string;
  logs: { role: string; line: string }[];
  stop(): Promise<void>;
}

/**
 * A real cluster for e2e tests: real Redis (REDIS_URL or the local server), a real S3-protocol
 * server, the API and workers as separate processes. Each test file gets its own key prefix, ports
 * and folders, so files can run side by side.
 */
export async function startTestCluster(workDir: string, writers = 2): Promise<TestCluster> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `e2e-${randomBytes(4).toString('hex')}`;
  const logs: { role: string; line: string }[] = [];
  const stack = await startLocalStack({
    workDir,
    s3Port: await freePort(),
    apiPort: await freePort(),
    redisUrl,
    prefix,
    writers,
    token: `test-${prefix}`,
    fileRoots: [workDir],
    env: { LOG_LEVEL: 'info' },
    onLog: (role, line) => {
      logs.push({ role, line });
      if (process.env.E2E_VERBOSE) process.stdout.write(`${role} | ${line}\n`);
    },
  });
  process.stdout.write(
    `e2e cluster: local processes, s3rver at ${stack.s3Endpoint}, Redis ${redisUrl}, prefix ${prefix}\n`,
  );
  const redis = new Redis(redisUrl);
  return {
    stack,
    redis,
    prefix,
    logs,
    async stop() {
      await stack.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
