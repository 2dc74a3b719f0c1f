import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/** A Redis server of one test file alone, which the test may stop and start again. */
export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server with `signal` (SIGTERM: a clean shutdown that syncs its append-only file). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder: it reloads its append-only file. */
  start(): Promise<void>;
}

/**
 * A dedicated `redis-server` on a free port with persistence as compose runs it (append-only file,
 * fsync every second; no RDB snapshots), its files under `dir`. For tests that stop Redis: the
 * machine's shared Redis serves other tests at the same time and must never be stopped.
 */
export async function startRedisServer(dir: string): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  let server: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  const start = async () => {
    const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: 'ignore' });
    server = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined); // not up yet: the loop asks again
      try {
        await probe.connect();
        // Loading the append-only file answers LOADING until it is done.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not listening or still loading
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer in 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        const child = server;
        if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
