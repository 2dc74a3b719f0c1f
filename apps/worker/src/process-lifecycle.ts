import { writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';

/**
 * Liveness for container health checks: a file touched from the event loop every 10 s, so a
 * wedged loop shows (docker/healthcheck.mjs reads it).
 */
export function startHeartbeat(file: string | undefined): { stop(): void } {
  const beat = () => file && writeFile(file, `${Date.now()}\n`).catch(() => undefined);
  void beat();
  const timer = setInterval(() => void beat(), 10_000);
  return { stop: () => clearInterval(timer) };
}

/** SIGTERM / SIGINT: run `stop` once, then exit 0. */
export function stopOnSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing current jobs');
    await stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
