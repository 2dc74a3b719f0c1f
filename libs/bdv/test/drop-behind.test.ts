import { describe, expect, it } from 'vitest';
import type { StoredChunk } from '../src/verify/chunk-index.js';
import { dropBehind } from '../src/verify/native-level-reader.js';

const chunk = (address: number, bytes: number): StoredChunk => ({
  offsetZyx: [0, 0, 0],
  address,
  bytes,
  filterMask: 0,
});

/** The (offset, length) ranges dropBehind asks to drop for `chunks`. */
function dropped(chunks: StoredChunk[]): [number, number][] {
  const calls: [number, number][] = [];
  dropBehind(7, chunks, (fd, offset, length) => {
    expect(fd).toBe(7);
    calls.push([offset, length]);
    return 0;
  });
  return calls;
}

describe('dropBehind (pages of verified chunks, docs/adr/027)', () => {
  it('drops adjacent chunks as one run, whatever order the index lists them in', () => {
    expect(dropped([chunk(2000, 1000), chunk(1000, 1000), chunk(3000, 500)])).toEqual([[1000, 2500]]);
  });

  it('leaves the bytes between runs alone (other levels, metadata: not read yet)', () => {
    expect(dropped([chunk(1000, 100), chunk(1100, 100), chunk(5000, 300), chunk(9000, 1)])).toEqual([
      [1000, 200],
      [5000, 300],
      [9000, 1],
    ]);
  });

  it('asks nothing for a slab without chunks, and takes compressed sizes as they are', () => {
    expect(dropped([])).toEqual([]);
    expect(dropped([chunk(4096, 17), chunk(4113, 3)])).toEqual([[4096, 20]]);
  });
});
