/**
 * Shortest text that parses back to the same double (JS's own rule), so numbers round-trip
 * exactly; npy2bdv's Python str() differs only cosmetically ("2.0" vs "2").
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} into BDV XML`);
  return Object.is(value, -0) ? '0' : String(value);
}

export function formatNumbers(values: readonly number[]): string {
  return values.map(formatNumber).join(' ');
}

/** The calibration transform as npy2bdv writes it: a diagonal scale in a 3x4 affine. */
export function calibrationAffineText(calibrationXyz: readonly number[]): string {
  const [cx, cy, cz] = calibrationXyz.map(formatNumber);
  return `${cx} 0.0 0.0 0.0 0.0 ${cy} 0.0 0.0 0.0 0.0 ${cz} 0.0`;
}
