import cliProgress from 'cli-progress';
import { describe, expect, it } from 'vitest';
import { etaText } from '../src/progress/progress-reporter.js';

describe('the progress bar ETA', () => {
  const format = cliProgress.Format.TimeFormat;
  const options = { autopaddingChar: '0' } as cliProgress.Options;

  it('is "-" until known: cli-progress gives the text 0 or INF, which its format cut to 0s/NFs', () => {
    expect(format('INF' as unknown as number, { autopaddingChar: ' ' } as cliProgress.Options, 5)).toBe(
      'NFs',
    );
    expect(etaText('INF', options, 5, format)).toBe('-');
    expect(etaText('0', options, 5, format)).toBe('-');
    expect(etaText(Number.NaN, options, 5, format)).toBe('-');
  });

  it('is formatted as cli-progress formats it once known', () => {
    expect(etaText(75, options, 5, format)).toBe('01m15s');
    expect(etaText(0, options, 5, format)).toBe('00s');
  });
});
