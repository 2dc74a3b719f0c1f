import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The worker process's way out, in a real Node process running the built module (dist: `npm test`
// builds first), as a writer in the middle of a view would run it.

const worker = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `script` (an ES module) in a fresh `node` from apps/worker; its exit code and JSON lines. */
function run(script: string): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: worker,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      resolve({
        code,
        lines: out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    );
  });
}

const WORKER = `
import { pino } from 'pino';
import { stopGracefully } from './dist/process-lifecycle.js';
const log = pino(pino.destination({ dest: 1, sync: true })); // lines in the order they were logged
// stop(): the queue workers' close, which waits for the view in hand
stopGracefully(log, async () => {
  await new Promise((r) => setTimeout(r, 300));
  log.info('view in hand finished');
});
setInterval(() => undefined, 1000); // a worker waiting for jobs
`;

describe('stopGracefully', () => {
  it('a rejection nobody handles is logged and stops the process through the graceful path, exit 1', async () => {
    const { code, lines } = await run(
      `${WORKER}\nsetTimeout(() => Promise.reject(new Error('Missing key for job j1. updateProgress')), 50);`,
    );
    expect(code).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual([
      'unhandled rejection',
      'shutting down: finishing current jobs',
      'view in hand finished',
      'stopped',
    ]);
    expect(lines[0]!.reason).toMatch(/Missing key for job j1/);
  });

  it('SIGTERM: the same path, exit 0', async () => {
    const { code, lines } = await run(
      `${WORKER}\nsetTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);`,
    );
    expect(code).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual([
      'shutting down: finishing current jobs',
      'view in hand finished',
      'stopped',
    ]);
  });
});
