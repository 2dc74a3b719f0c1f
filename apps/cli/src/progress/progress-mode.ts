import { Option } from 'commander';

/** How a command shows progress: a live bar, one line per step, nothing, or bar on a terminal. */
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export function progressOption(): Option {
  return new Option('--progress <mode>', 'progress display').choices(PROGRESS_MODES).default('auto');
}

/**
 * A bar only where a person watches a terminal: the bar library draws nothing elsewhere, so
 * `bar` asked for with stderr in a file or a pipe gives lines rather than silence.
 */
export function wantsBar(mode: ProgressMode, isTerminal = Boolean(process.stderr.isTTY)): boolean {
  return (mode === 'bar' || mode === 'auto') && isTerminal;
}
