import { describe, expect, it } from 'vitest';
import { layoutTip } from '../src/convert/convert-action.js';
import type { ConversionResult } from '../src/convert/run-conversion.js';

const result = (r: Partial<ConversionResult>) => ({ layout: 'single', written: 8, ...r }) as ConversionResult;

describe('the layout tip after a conversion', () => {
  it('names the flag for the quick form and the manifest field for a manifest', () => {
    expect(layoutTip(result({}), 'gzip', 4)).toMatch(
      /^tip: gzip views .*; --layout partitioned writes .* all 4 cores/,
    );
    expect(layoutTip(result({}), 'lzf', 2, true)).toMatch(
      /; "layout": "partitioned" in the manifest's dataset writes/,
    );
  });

  it('says nothing where the layout would not help', () => {
    expect(layoutTip(result({ layout: 'partitioned' }), 'gzip', 4)).toBe('');
    expect(layoutTip(result({ written: 1 }), 'gzip', 4)).toBe('');
    expect(layoutTip(result({}), 'none', 4)).toBe('');
    expect(layoutTip(result({}), 'gzip', 1)).toBe('');
  });
});
