import { describe, expect, it } from 'vitest';
import { startHelperThread } from '../src/h5/helper-thread.js';

const entry = (source: string) => new URL(`data:text/javascript,${encodeURIComponent(source)}`);

/** Resolves with every loss reported within `ms` after the first. */
function losses(source: string, ms = 200): Promise<unknown[]> {
  return new Promise((resolve) => {
    const seen: unknown[] = [];
    const worker = startHelperThread(entry(source), {}, (why) => {
      seen.push(why);
      if (seen.length === 1) setTimeout(() => resolve(seen), ms);
    });
    expect(worker).toBeDefined();
  });
}

describe('startHelperThread', () => {
  it('reports a thread that exits, once', async () => {
    const seen = await losses('process.exit(3)');
    expect(seen).toHaveLength(1);
    expect(String(seen[0])).toContain('it exited (3)');
  });

  it('reports a thread that throws once, not again when it then exits', async () => {
    const seen = await losses('throw new Error("broken entry")');
    expect(seen).toHaveLength(1);
    expect((seen[0] as Error).message).toBe('broken entry');
  });

  it('reports nothing for a thread that runs', async () => {
    const seen: unknown[] = [];
    const worker = startHelperThread(
      entry(
        'const { parentPort } = await import("node:worker_threads"); parentPort.on("message", (m) => parentPort.postMessage(m + 1));',
      ),
      {},
      (why) => seen.push(why),
    );
    const answer = await new Promise((resolve) => {
      worker!.once('message', resolve);
      worker!.postMessage(41);
    });
    expect(answer).toBe(42);
    expect(seen).toEqual([]);
    await worker!.terminate();
    // terminating it is a loss like any other exit
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(1);
  });
});
