import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** Where the e2e tests get their real Redis and S3 from. */
export interface Infrastructure {
  mode: 'testcontainers' | 'local';
  redisUrl: string;
  /** Undefined: the local stack starts s3rver itself. */
  s3Endpoint?: string;
  s3Credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/** A Docker engine that answers (testcontainers' own detection), unless BDV_E2E_MODE=local. */
async function dockerEngineAnswers(): Promise<boolean> {
  if (process.env.BDV_E2E_MODE === 'local') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * The one switch: Redis and MinIO from testcontainers when a Docker engine answers, otherwise the
 * local Redis (REDIS_URL or 127.0.0.1:6379, started by scripts/install-test-deps.sh) and s3rver.
 * Either way the tests run the same code against real servers; the choice is logged.
 */
export async function startInfrastructure(): Promise<Infrastructure> {
  if (await dockerEngineAnswers()) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const { MinioContainer } = await import('@testcontainers/minio');
    const [redis, minio] = await Promise.all([
      new RedisContainer('redis:7.4-alpine').start(),
      new MinioContainer('minio/minio:RELEASE.2025-04-22T22-12-26Z').start(),
    ]);
    const s3Credentials = { accessKeyId: minio.getUsername(), secretAccessKey: minio.getPassword() };
    const s3 = new S3Client({
      endpoint: minio.getConnectionUrl(),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: s3Credentials,
    });
    for (const Bucket of ['raw', 'output']) await s3.send(new CreateBucketCommand({ Bucket }));
    s3.destroy();
    process.stdout.write(
      `e2e infrastructure: testcontainers (Redis ${redis.getConnectionUrl()}, MinIO ${minio.getConnectionUrl()})\n`,
    );
    return {
      mode: 'testcontainers',
      redisUrl: redis.getConnectionUrl(),
      s3Endpoint: minio.getConnectionUrl(),
      s3Credentials,
      stop: async () => {
        await Promise.all([redis.stop(), minio.stop()]);
      },
    };
  }
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  process.stdout.write(
    `e2e infrastructure: local servers (no Docker engine answered): Redis ${redisUrl}, s3rver\n`,
  );
  return {
    mode: 'local',
    redisUrl,
    s3Credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stop: async () => undefined,
  };
}
