import type { S3Settings } from '@bdv-cluster/storage';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from './free-port.js';

/**
 * A real S3-protocol server (s3rver) in this process, storing under `folder`/s3, and the settings
 * a client needs to reach it. Stop it with `server.close()`.
 */
export async function startLocalS3(folder: string): Promise<{ server: S3rver; settings: S3Settings }> {
  const port = await freePort();
  const server = new S3rver({ port, address: '127.0.0.1', directory: join(folder, 's3'), silent: true });
  await server.run();
  const settings: S3Settings = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  };
  return { server, settings };
}
