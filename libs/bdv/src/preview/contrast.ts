/**
 * Display contrast of a 16-bit image from its own percentiles (what Fiji's "auto" does): the
 * `low`..`high` percentiles of the pixel values become black..white. A histogram of all 65536
 * values makes every percentile exact in one pass and O(1) memory in the image size.
 */

/** The default window: 0.1 % and 99.9 %, so a few hot or dead pixels do not set the range. */
export const DEFAULT_LOW_PERCENT = 0.1;
export const DEFAULT_HIGH_PERCENT = 99.9;

/** Raw values mapped to black and white (inclusive; `high > low`). */
export interface ContrastWindow {
  low: number;
  high: number;
}

/** Counts of each uint16 value (65536 bins). Adds to `into` when given (several images, one window). */
export function histogramOf(values: Uint16Array, into: Uint32Array = new Uint32Array(65536)): Uint32Array {
  for (let i = 0; i < values.length; i++) into[values[i]!]!++;
  return into;
}

/**
 * The smallest value v such that at least `percent` % of the counted pixels are <= v (the
 * "nearest rank" percentile). An empty histogram has percentile 0.
 */
export function percentileOf(histogram: Uint32Array, percent: number): number {
  if (!(percent >= 0 && percent <= 100)) throw new RangeError(`percent must be 0..100, got ${percent}`);
  let total = 0;
  for (let v = 0; v < histogram.length; v++) total += histogram[v]!;
  if (total === 0) return 0;
  // (percent * total) / 100, not (percent / 100) * total: 99.9 % of 1000 must be 999, not 999.0000000000001.
  const rank = Math.max(1, Math.ceil((percent * total) / 100));
  let seen = 0;
  for (let v = 0; v < histogram.length; v++) {
    seen += histogram[v]!;
    if (seen >= rank) return v;
  }
  return histogram.length - 1;
}

/**
 * The window between two percentiles; never empty (a flat image gets `high = low + 1`, so it
 * shows as black rather than dividing by zero).
 */
export function contrastWindowOf(
  histogram: Uint32Array,
  lowPercent = DEFAULT_LOW_PERCENT,
  highPercent = DEFAULT_HIGH_PERCENT,
): ContrastWindow {
  if (!(lowPercent < highPercent))
    throw new RangeError(`low percentile ${lowPercent} must be below high ${highPercent}`);
  const low = percentileOf(histogram, lowPercent);
  const high = Math.max(percentileOf(histogram, highPercent), low + 1);
  return { low, high };
}

/** 16-bit values to 8-bit gray: `low` and below -> 0, `high` and above -> 255, linear between. */
export function toGray8(
  values: Uint16Array,
  window: ContrastWindow,
  out: Uint8Array = new Uint8Array(values.length),
): Uint8Array {
  const scale = 255 / (window.high - window.low);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v <= window.low ? 0 : v >= window.high ? 255 : Math.round((v - window.low) * scale);
  }
  return out;
}
