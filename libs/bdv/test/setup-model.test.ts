import { describe, expect, it } from 'vitest';
import { BdvError, resolveSetupCounts, setupAttributesOf, setupCount, setupIdOf } from '../src/index.js';

describe('setup ids (npy2bdv order: illumination > channel > tile > angle)', () => {
  it('numbers 2 tiles x 2 channels as the spec example', () => {
    const c = resolveSetupCounts({ channels: 2, tiles: 2 });
    expect(setupIdOf(c, { illumination: 0, channel: 0, tile: 0, angle: 0 })).toBe(0);
    expect(setupIdOf(c, { illumination: 0, channel: 0, tile: 1, angle: 0 })).toBe(1);
    expect(setupIdOf(c, { illumination: 0, channel: 1, tile: 0, angle: 0 })).toBe(2);
    expect(setupIdOf(c, { illumination: 0, channel: 1, tile: 1, angle: 0 })).toBe(3);
  });

  it('inverts every id of a 2x3x4x5 dataset', () => {
    const c = resolveSetupCounts({ illuminations: 2, channels: 3, tiles: 4, angles: 5 });
    for (let id = 0; id < setupCount(c); id++) expect(setupIdOf(c, setupAttributesOf(c, id))).toBe(id);
    expect(setupIdOf(c, { illumination: 1, channel: 2, tile: 3, angle: 4 })).toBe(119);
  });

  it('names the attribute that is out of range', () => {
    const c = resolveSetupCounts({ channels: 2 });
    expect(() => setupIdOf(c, { illumination: 0, channel: 2, tile: 0, angle: 0 })).toThrow(
      /channel index 2 is outside 0\.\.1/,
    );
    try {
      setupIdOf(c, { illumination: 0, channel: 0, tile: -1, angle: 0 });
    } catch (e) {
      expect((e as BdvError).field).toBe('tile');
    }
    expect(() => resolveSetupCounts({ tiles: 0 })).toThrow(/setup\.tiles/);
  });
});
