/** Decimal megabytes, as the progress lines and the MB/s figures count them. */
export const MB = 1e6;

/** Bytes as a person reads them, one rule for every line a command prints: MB below 1 GB, then GB. */
export function humanBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / MB).toFixed(1)} MB`;
}
