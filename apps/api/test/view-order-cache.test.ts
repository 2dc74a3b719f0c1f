import { ViewKeyOrder, type DatasetRecord } from '@bdv-cluster/pipeline';
import { describe, expect, it } from 'vitest';
import { ViewOrderCache } from '../src/datasets/view-order-cache.js';

// A paged listing keeps its dataset's key order only while the dataset's views are unchanged.

const dataset = (id: string, views: Partial<DatasetRecord['views']> = {}, updatedAt = 't0') =>
  ({
    id,
    status: 'writing',
    generation: 0,
    updatedAt,
    views: { queued: 1, running: 0, done: 0, failed: 0, ...views },
  }) as DatasetRecord;
const keys = (n: number) => Array.from({ length: n }, (_, i) => `t${i}-i0-c0-s0-a0`);

describe('view order cache', () => {
  it('answers while the dataset is unchanged, per state, and misses once a view moved', () => {
    const cache = new ViewOrderCache(100);
    const order = ViewKeyOrder.of(keys(3));
    cache.set(dataset('d1'), undefined, order);
    expect(cache.get(dataset('d1'), undefined)).toBe(order);
    expect(cache.get(dataset('d1'), 'failed')).toBeUndefined();
    expect(cache.get(dataset('d2'), undefined)).toBeUndefined();
    expect(cache.get(dataset('d1', { queued: 0, running: 1 }), undefined)).toBeUndefined();
    expect(cache.get(dataset('d1', {}, 't1'), undefined)).toBeUndefined();
    // A new order under the new stamp replaces the old one.
    const moved = dataset('d1', { queued: 0, done: 1 });
    const later = ViewKeyOrder.of(keys(4));
    cache.set(moved, undefined, later);
    expect(cache.get(moved, undefined)).toBe(later);
    expect(cache.get(dataset('d1'), undefined)).toBeUndefined();
  });

  it('holds at most its budget of views, the least recently paged dataset going first', () => {
    const cache = new ViewOrderCache(100);
    const [a, b, c] = [dataset('a'), dataset('b'), dataset('c')];
    cache.set(a, undefined, ViewKeyOrder.of(keys(40)));
    cache.set(b, undefined, ViewKeyOrder.of(keys(40)));
    expect(cache.get(a, undefined)).toBeDefined(); // a is now the most recent
    cache.set(c, undefined, ViewKeyOrder.of(keys(40)));
    expect([a, b, c].map((d) => cache.get(d, undefined) !== undefined)).toEqual([true, false, true]);
    cache.set(dataset('huge'), undefined, ViewKeyOrder.of(keys(101)));
    expect(cache.get(dataset('huge'), undefined)).toBeUndefined();
  });
});
