import { Option } from 'commander';

/** How a command shows progress: a live bar, one line per step, nothing, or bar on a terminal. */
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export function progressOption(): Option {
  return new Option('--progress <mode>', 'progress display').choices(PROGRESS_MODES).default('auto');
}

/** A bar only where a person watches a terminal. */
export function wantsBar(mode: ProgressMode): boolean {
  return mode === 'bar' || (mode === 'auto' && Boolean(process.stderr.isTTY));
}
