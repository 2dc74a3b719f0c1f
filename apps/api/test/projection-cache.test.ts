import type { ViewProjection } from '@bdv-cluster/bdv/preview';
import { describe, expect, it } from 'vitest';
import { ProjectionCache } from '../src/previews/projection-cache.js';

const projection = (bytes: number): ViewProjection => ({
  width: bytes / 2,
  height: 1,
  pixels: new Uint16Array(bytes / 2),
  axis: 'z',
  level: 0,
  levelShapeZyx: [1, 1, bytes / 2],
  shrink: 1,
});

describe('projection cache', () => {
  it('keeps at most its bytes, dropping the least recently used first', () => {
    const cache = new ProjectionCache(300);
    cache.set('a', projection(100));
    cache.set('b', projection(100));
    cache.set('c', projection(100));
    expect(cache.get('a')).toBeDefined(); // a is now the most recently used
    cache.set('d', projection(100)); // 400 bytes: b goes
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => cache.get(k) !== undefined)).toEqual([true, true, true]);
    cache.set('e', projection(300)); // only e fits
    expect(['a', 'c', 'd', 'e'].map((k) => cache.get(k) !== undefined)).toEqual([false, false, false, true]);
  });

  it('never holds an image larger than itself', () => {
    const cache = new ProjectionCache(100);
    cache.set('big', projection(200));
    expect(cache.get('big')).toBeUndefined();
  });
});
