import { describe, expect, it } from 'vitest';
import { PreviewReadQueue } from '../src/previews/read-queue.js';

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

describe('PreviewReadQueue', () => {
  it('runs reads one at a time, in order, and refuses beyond its bound until one ends', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(2);
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const first = queue.add(a.read)!;
    const second = queue.add(b.read)!;
    expect(queue.add(async () => 'c')).toBeUndefined();
    expect(queue.length).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start a']); // b waits for a
    a.open();
    expect(await first).toBe('a');
    expect(queue.length).toBe(1);
    const third = queue.add(async () => 'c');
    expect(third).toBeDefined();
    b.open();
    expect([await second, await third]).toEqual(['b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    expect(queue.length).toBe(0);
  });

  it('frees the slot of a failed read and goes on with the next', async () => {
    const log: string[] = [];
    const queue = new PreviewReadQueue(1);
    const bad = gate(log, 'bad', true);
    const failing = queue.add(bad.read)!;
    expect(queue.add(async () => 'refused')).toBeUndefined();
    bad.open();
    await expect(failing).rejects.toThrow('bad failed');
    expect(queue.length).toBe(0);
    expect(await queue.add(async () => 'next')).toBe('next');
  });
});
