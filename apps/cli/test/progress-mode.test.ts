import { describe, expect, it } from 'vitest';
import { wantsBar } from '../src/progress/progress-mode.js';

describe('progress modes', () => {
  it('draw a bar only on a terminal: bar asked for elsewhere gives lines, not silence', () => {
    expect(wantsBar('bar', true)).toBe(true);
    expect(wantsBar('auto', true)).toBe(true);
    expect(wantsBar('bar', false)).toBe(false);
    expect(wantsBar('auto', false)).toBe(false);
    expect(wantsBar('lines', true)).toBe(false);
    expect(wantsBar('none', true)).toBe(false);
  });
});
