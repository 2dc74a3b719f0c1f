import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, type S3Settings } from '@bdv-cluster/storage';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3 } from '../../../test/support/local-s3.js';
import { tempDir } from '../../../test/support/oracle.js';

// A thread that streams an object from S3 gets a fresh 64 KiB Buffer per socket read. In a thread
// started with V8's default first old-generation limit this ran a full collection every few MiB
// (5-10 per 192 MiB, 21-30 per 512 MiB measured with this fixture); the pool sizes the heaps of
// the threads it starts (thread-heap.ts) and the same read runs about one. Real s3rver, real
// threads from the build, in a plain node process (fixtures/read-s3-beside-pool.mjs).

const OBJECT_BYTES = 256 << 20;
const dir = tempDir('bdv-thread-heap-');
const fixture = join(import.meta.dirname, 'fixtures', 'read-s3-beside-pool.mjs');
let server: S3rver;
let s3: S3Settings;

beforeAll(async () => {
  ({ server, settings: s3 } = await startLocalS3(dir.path));
  const client = createS3Client(s3);
  await client.send(new CreateBucketCommand({ Bucket: 'raw' }));
  const body = Buffer.allocUnsafe(OBJECT_BYTES);
  for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
  await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'stack.raw', Body: body }));
  client.destroy();
}, 120_000);

afterAll(async () => {
  await server.close();
  dir.remove();
});

describe('heaps of the threads a ViewThreadPool starts', () => {
  it('read a 256 MiB S3 object with at most two full garbage collections', async () => {
    // Not execFileSync: s3rver answers from this process's event loop.
    const { stdout: out } = await promisify(execFile)(
      process.execPath,
      [fixture, JSON.stringify(s3), 'raw', 'stack.raw', 'pool'],
      { encoding: 'utf8' },
    );
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as {
      bytes: number;
      fullGcs: number;
      sized: boolean;
    };
    expect(result.sized).toBe(true);
    expect(result.bytes).toBe(OBJECT_BYTES);
    expect(result.fullGcs).toBeLessThanOrEqual(2);
  }, 120_000);
});
