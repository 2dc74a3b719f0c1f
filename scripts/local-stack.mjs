// The whole cluster on one machine without Docker: a real S3-protocol server (s3rver, in this
// process), the API, writer(s) and a finalizer as separate processes, against a Redis that is
// already running. Used by `npm run stack` and by the e2e tests when no Docker engine answers.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';
import { freePort } from './free-port.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export { freePort };

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
 * @param {number} [o.startTimeoutMs=30000]  how long the API may take to answer at start-up
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
  // Same port and folder every time, so a restarted S3 serves the objects it had (fault tests).
  const startS3 = async () => {
    await assertPortFree(s3Port);
    mkdirSync(join(o.workDir, 's3'), { recursive: true });
    s3server = new S3rver({
      port: s3Port,
      address: '127.0.0.1',
      directory: join(o.workDir, 's3'),
      silent: true,
      configureBuckets: [{ name: 'raw' }, { name: 'output' }],
    });
    await s3server.run();
  };
  const stopS3 = async () => {
    const server = s3server;
    s3server = undefined;
    if (!server) return;
    const closed = server.close();
    // Cut open keep-alive and streaming connections too: an outage, not a graceful drain.
    server.httpServer?.closeAllConnections();
    await closed;
  };
  if (!o.s3Endpoint) await startS3();
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
  /** Starts a role's process, or a new one in place of one that stopped (same role name). */
  const start = (role) => {
    const script = role === 'api' ? 'apps/api/dist/main.js' : 'apps/worker/dist/main.js';
    const extra = role === 'api' ? {} : { WORKER_ROLE: role.startsWith('writer') ? 'writer' : 'finalizer' };
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
    const entry = children.find((c) => c.role === role);
    if (entry) entry.child = child;
    else children.push({ role, child });
    return child;
  };
  start('api');
  for (let i = 0; i < (o.writers ?? 1); i++) start(`writer-${i + 1}`);
  start('finalizer');

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const startTimeoutMs = o.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + startTimeoutMs;
  // A stack that does not come up leaves nothing running behind.
  const abandon = async (message) => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
    await stopS3();
    throw new Error(message);
  };
  for (;;) {
    const exited = children.find((c) => c.child.exitCode !== null);
    if (exited) await abandon(`${exited.role} exited with code ${exited.child.exitCode} during start-up`);
    let live = false;
    try {
      live = (await fetch(`${apiUrl}/health/live`)).ok;
    } catch {
      // not listening yet
    }
    if (live) {
      // An API that refuses our token is another stack's on the same port (ours could not bind).
      const ours = env.API_TOKENS.split(',')[0];
      const own = await fetch(`${apiUrl}/v1/datasets`, { headers: { authorization: `Bearer ${ours}` } });
      if (own.status === 401)
        await abandon(`port ${apiPort} is taken by another API (it refuses this stack's token)`);
      break;
    }
    if (Date.now() > deadline) await abandon(`the API did not answer within ${startTimeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    apiUrl,
    token,
    s3Endpoint,
    outputDir,
    env,
    children,
    /** The live process of a role ('api', 'writer-N', 'finalizer'). */
    child: (role) => children.find((c) => c.role === role)?.child,
    /** Starts a role again (after a kill), or a new one (e.g. 'writer-3'). */
    startRole: start,
    /** Stops / starts the local S3 server (same port and folder); no-op with an external S3. */
    stopS3,
    startS3: async () => {
      if (!o.s3Endpoint && !s3server) await startS3();
    },
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
      await stopS3();
    },
  };
}

/**
 * Rejects (EADDRINUSE) when something listens on `port` already: s3rver does not reject then but
 * emits an error no one can catch, ending the process with a stack trace.
 */
function assertPortFree(port) {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
}
