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

/**
 * SIGTERM / SIGINT: run `stop` once (the views in hand are finished and marked, nothing new is
 * taken), then exit 0. A promise rejected with no handler — a bug somewhere: left to Node, it ends
 * the process at once, in the middle of every view in hand, leaving journals and staged files —
 * is logged and stops the process the same way, then exits 1 so that its restart shows. Going on
 * as if nothing happened is not safe either: whatever that promise was doing is undone, unknown.
 */
export function stopGracefully(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (why: Record<string, unknown>, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info(why, 'shutting down: finishing current jobs');
    try {
      await stop();
      log.info('stopped');
    } catch (error) {
      log.error({ reason: (error as Error).message }, 'could not stop cleanly');
      code = 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown({ signal: 'SIGTERM' }, 0));
  process.on('SIGINT', () => void shutdown({ signal: 'SIGINT' }, 0));
  process.on('unhandledRejection', (reason) => {
    log.error({ reason: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled rejection');
    void shutdown({ cause: 'unhandled rejection' }, 1);
  });
}
