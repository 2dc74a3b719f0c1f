import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/oracle.js';

// `npm run stack` (scripts/stack.mjs) on ports the environment chooses: API_PORT (or the API's
// own PORT) and S3_PORT, so a second stack, or a machine whose 3000/9000 are taken, can run one.

const root = join(import.meta.dirname, '..', '..');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-stack-${randomBytes(4).toString('hex')}`;
const dir = tempDir('bdv-stack-ports-');
const token = 'stack-ports-token-0123456789';
const started: ChildProcess[] = [];

afterAll(async () => {
  // SIGINT: a stack stops its API, writers and finalizer first (SIGKILL would orphan them)
  await Promise.all(started.filter((child) => child.exitCode === null).map(stop));
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  dir.remove();
});

/** `npm run stack`'s script with `env`; resolves with its output once it is up, or has exited. */
function stack(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; out: string; code: number | null }> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', join(root, 'scripts/stack.mjs')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      STACK_DIR: join(dir.path, randomBytes(4).toString('hex')),
      FILE_SOURCE_ROOTS: dir.path,
      API_TOKENS: token,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  return new Promise((resolve) => {
    let out = '';
    const take = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('bdv-cluster is up')) resolve({ child, out, code: null });
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => resolve({ child, out, code }));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const late = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(late);
}

describe('npm run stack', () => {
  it('listens where API_PORT and S3_PORT say', async () => {
    const [apiPort, s3Port] = [await freePort(), await freePort()];
    const { child, out, code } = await stack({ API_PORT: String(apiPort), S3_PORT: String(s3Port) });
    expect(code, out).toBeNull();
    expect(out).toContain(`API        http://127.0.0.1:${apiPort}`);
    expect(out).toContain(`S3         http://127.0.0.1:${s3Port}`);
    const ready = await fetch(`http://127.0.0.1:${apiPort}/health/ready`);
    // the API reads its raw bucket from the S3 server on S3_PORT
    expect(await ready.json()).toMatchObject({ info: { redis: { status: 'up' }, s3: { status: 'up' } } });
    await stop(child);
  });

  it("takes the API's own PORT too, and says which variable holds a bad port", async () => {
    const [apiPort, s3Port] = [await freePort(), await freePort()];
    const { child, out, code } = await stack({ PORT: String(apiPort), S3_PORT: String(s3Port) });
    expect(code, out).toBeNull();
    expect((await fetch(`http://127.0.0.1:${apiPort}/health/live`)).status).toBe(200);
    await stop(child);

    const bad = await stack({ API_PORT: '70000' });
    expect([bad.code, bad.out]).toEqual([1, 'stack: API_PORT=70000 is not a port (1-65535)\n']);
  });

  it('names the ports when one is taken', async () => {
    const [apiPort, s3Port] = [await freePort(), await freePort()];
    const first = await stack({ API_PORT: String(apiPort), S3_PORT: String(s3Port) });
    expect(first.code, first.out).toBeNull();
    const second = await stack({ API_PORT: String(await freePort()), S3_PORT: String(s3Port) });
    expect(second.code).toBe(1);
    expect(second.out).toContain(`stack: port ${s3Port} is taken (API_PORT=`);
    await stop(first.child);
  });
});
