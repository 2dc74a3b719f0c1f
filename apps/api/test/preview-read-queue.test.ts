import { describe, expect, it } from 'vitest';
import { PreviewReadQueue, ReadCancelled, ReadOverrun, ReadWaitExpired } from '../src/previews/read-queue.js';

/** A read that ends when told to, recording when it ran. */
function gate(log: string[], name: string, fail = false) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    open: () => open(),
    read: async () => {
      log.push(`start ${name}`);
      await opened;
      log.push(`end ${name}`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    },
  };
}

const limits = (maxViews: number, waitMs = 60_000, runMs = 60_000) => ({ maxViews, waitMs, runMs });
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('PreviewReadQueue', () => {
  it('runs reads one at a time, in order, and refuses views beyond its bound until a read ends', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(limits(4));
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const first = queue.add(3, a.read)!; // a sheet's read of 3 views
    const second = queue.add(1, b.read)!;
    expect(queue.add(1, async () => 'c')).toBeUndefined();
    expect(queue.length).toBe(4);
    await tick();
    expect(log).toEqual(['start a']); // b waits for a
    a.open();
    expect(await first).toBe('a');
    expect(queue.length).toBe(1);
    const third = queue.add(3, async () => 'c');
    expect(third).toBeDefined();
    b.open();
    expect([await second, await third]).toEqual(['b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    expect(queue.length).toBe(0);
  });

  it('frees the views of a failed or throwing read and goes on with the next', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(limits(1));
    const bad = gate(log, 'bad', true);
    const failing = queue.add(1, bad.read)!;
    expect(queue.add(1, async () => 'refused')).toBeUndefined();
    bad.open();
    await expect(failing).rejects.toThrow('bad failed');
    expect(queue.length).toBe(0);
    const throwing = queue.add(1, () => {
      throw new Error('at once');
    })!;
    await expect(throwing).rejects.toThrow('at once');
    expect(await queue.add(1, async () => 'next')).toBe('next');
  });

  it('drops a read that waited too long, without running it, and keeps the order after it', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(limits(8, 50));
    const slow = gate(log, 'slow');
    const first = queue.add(1, slow.read)!;
    const late = queue.add(1, async () => log.push('late ran'))!;
    await expect(late).rejects.toBeInstanceOf(ReadWaitExpired);
    expect(queue.length).toBe(1); // the dropped read's view is free again
    const after = queue.add(1, async () => 'after')!;
    await tick();
    expect(log).toEqual(['start slow']); // still behind the running read
    slow.open();
    expect([await first, await after]).toEqual(['slow', 'after']);
    expect(log).not.toContain('late ran');
  });

  it('answers a read running past runMs with ReadOverrun, aborts its signal and lets the next one start', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(limits(8, 60_000, 40));
    const hung = gate(log, 'hung');
    const signals: AbortSignal[] = [];
    const first = queue.add(1, (signal) => (signals.push(signal), hung.read()))!;
    const next = queue.add(1, async (signal) => (signals.push(signal), 'next'))!;
    await expect(first).rejects.toBeInstanceOf(ReadOverrun);
    expect(await next).toBe('next');
    // the overrun read is told to stop (the previews stop its thread); the next one is not
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    expect(signals[0]!.reason).toBeInstanceOf(ReadOverrun);
    expect(queue.length).toBe(0); // the overrunning read no longer counts
    hung.open(); // it ends later: nothing is answered twice
    await tick();
    expect(log).toEqual(['start hung', 'end hung']);
  });

  it('drops a read cancelled before its turn at once, without running it; once running, cancel changes nothing', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(limits(4));
    const slow = gate(log, 'slow');
    const runningGone = new AbortController();
    const first = queue.add(1, slow.read, runningGone.signal)!;
    const queuedGone = new AbortController();
    const left = queue.add(3, async () => log.push('left ran'), queuedGone.signal)!;
    expect(queue.add(1, async () => 'refused')).toBeUndefined(); // full: 4 of 4
    await tick();
    queuedGone.abort();
    await expect(left).rejects.toBeInstanceOf(ReadCancelled);
    expect(queue.length).toBe(1); // its 3 views are free before the running read ends
    const after = queue.add(3, async () => 'after')!;
    expect(after).toBeDefined();
    runningGone.abort(); // already running: it goes on, and its result is still answered
    slow.open();
    expect([await first, await after]).toEqual(['slow', 'after']);
    expect(log).toEqual(['start slow', 'end slow']);
    expect(queue.length).toBe(0);
    // a caller already gone queues nothing
    const gone = new AbortController();
    gone.abort();
    await expect(queue.add(1, async () => log.push('gone ran'), gone.signal)!).rejects.toBeInstanceOf(
      ReadCancelled,
    );
    expect(queue.length).toBe(0);
    expect(log).not.toContain('gone ran');
  });

  it('holds nothing of reads whose clients asked and left in a loop while one read runs', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(limits(2));
    const slow = gate(log, 'slow');
    const first = queue.add(1, slow.read)!;
    for (let i = 0; i < 1000; i++) {
      const gone = new AbortController();
      const left = queue.add(1, async () => log.push('left ran'), gone.signal)!;
      gone.abort();
      await expect(left).rejects.toBeInstanceOf(ReadCancelled);
    }
    expect(queue.length).toBe(1);
    expect((queue as unknown as { waiting: unknown[] }).waiting).toHaveLength(0);
    slow.open();
    expect(await first).toBe('slow');
    expect(log).toEqual(['start slow', 'end slow']);
  });
});
