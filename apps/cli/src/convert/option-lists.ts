import { CliError } from '../cli-error.js';

/** "1,1,1:2,4,4" -> [[1,1,1],[2,4,4]] (levels separated by ':', axes by ','). */
export function parseLevels(text: string, option: string): [number, number, number][] {
  return text.split(':').map((level) => parseTriple(level, option, true) as [number, number, number]);
}

/** As parseLevels, or "auto": the levels BigDataViewer's exporter would propose (see libs/bdv proposeMipmaps). */
export function parseLevelsOrAuto(text: string, option: string): [number, number, number][] | 'auto' {
  return text.trim() === 'auto' ? 'auto' : parseLevels(text, option);
}

/** "0.5,0.5,2" -> [0.5,0.5,2]; integers only when asked. */
export function parseTriple(text: string, option: string, integers = false): [number, number, number] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  const ok =
    parts.length === 3 &&
    parts.every((n) => Number.isFinite(n) && (!integers || (Number.isInteger(n) && n >= 1)));
  if (!ok)
    throw new CliError(
      `${option}: expected 3 ${integers ? 'integers >= 1' : 'numbers'} like 1,2,3; got "${text}"`,
    );
  return parts as [number, number, number];
}

/** "0.02" -> 0.02; anything else (`fast`, an empty string) refused quoting what was typed. */
export function parseNumber(text: string, option: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new CliError(`${option}: expected a number like 0.02; got "${text}"`);
  return n;
}

export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** --jobs above this only add heaps (~100 MiB a thread), never speed, on any machine we know. */
export const MAX_JOBS = 64;

export function parseInteger(text: string, option: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(
      `${option}: expected an integer ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `>= ${min}`}; got "${text}"`,
    );
  return n;
}
