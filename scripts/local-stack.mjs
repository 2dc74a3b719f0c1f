// The whole cluster on one machine without Docker: a real S3-protocol server (s3rver, in this
// process), the API, writer(s) and a finalizer as separate processes, against a Redis that is
// already running. Used by `npm run stack` and by the e2e tests when no Docker engine answers.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {object} o
 * @param {string} o.workDir          where S3 objects and outputs live
 * @param {number} [o.s3Port=9000]
 * @param {number} [o.apiPort=3000]
 * @param {string} [o.redisUrl]
 * @param {string} [o.token]
 * @param {string} [o.prefix]          Redis key / queue prefix (isolates parallel stacks)
 * @param {number} [o.writers=1]       writer processes
 * @param {string[]} [o.fileRoots]
 * @param {(role: string, line: string) => void} [o.onLog]
 * @param {string} [o.s3Endpoint]      use this S3 (with o.s3Credentials) instead of starting s3rver
 * @param {{accessKeyId: string, secretAccessKey: string}} [o.s3Credentials]
 * @param {Record<string,string>} [o.env]
 */
export async function startLocalStack(o) {
  const s3Port = o.s3Port ?? 9000;
  const apiPort = o.apiPort ?? 3000;
  // API_TOKENS are at least 16 characters (the API refuses shorter ones at start-up).
  const token = o.token ?? 'dev-token-not-for-production';
  const outputDir = join(o.workDir, 'output');
  mkdirSync(outputDir, { recursive: true });
  let s3server;
  const s3Endpoint = o.s3Endpoint ?? `http://127.0.0.1:${s3Port}`;
  if (!o.s3Endpoint) {
    mkdirSync(join(o.workDir, 's3'), { recursive: true });
    s3server = new S3rver({
      port: s3Port,
      address: '127.0.0.1',
      directory: join(o.workDir, 's3'),
      silent: true,
      configureBuckets: [{ name: 'raw' }, { name: 'output' }],
    });
    await s3server.run();
  }
  const env = {
    ...process.env,
    REDIS_URL: o.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    S3_ENDPOINT: s3Endpoint,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: o.s3Credentials?.accessKeyId ?? 'S3RVER',
    S3_SECRET_ACCESS_KEY: o.s3Credentials?.secretAccessKey ?? 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    RAW_BUCKET: 'raw',
    OUTPUT_BUCKET: 'output',
    OUTPUT_DIR: outputDir,
    API_TOKENS: token,
    FILE_SOURCE_ROOTS: (o.fileRoots ?? [o.workDir]).join(','),
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    QUEUE_PREFIX: o.prefix ?? 'bdv',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ...o.env,
  };
  const children = [];
  const start = (role, script, extra = {}) => {
    const child = spawn(process.execPath, [join(root, script)], {
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop();
        for (const line of lines) o.onLog?.(role, line);
      });
    }
    children.push({ role, child });
    return child;
  };
  start('api', 'apps/api/dist/main.js');
  for (let i = 0; i < (o.writers ?? 1); i++)
    start(`writer-${i + 1}`, 'apps/worker/dist/main.js', { WORKER_ROLE: 'writer' });
  start('finalizer', 'apps/worker/dist/main.js', { WORKER_ROLE: 'finalizer' });

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const exited = children.find((c) => c.child.exitCode !== null);
    if (exited) throw new Error(`${exited.role} exited with code ${exited.child.exitCode} during start-up`);
    try {
      if ((await fetch(`${apiUrl}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the API did not answer within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    apiUrl,
    token,
    s3Endpoint,
    outputDir,
    env,
    children,
    /** SIGTERM everyone (graceful: writers finish their view), then stop S3. */
    async stop() {
      await Promise.all(
        children.map(
          ({ child }) =>
            new Promise((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r(undefined);
              child.once('exit', r);
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
            }),
        ),
      );
      await s3server?.close();
    },
  };
}
