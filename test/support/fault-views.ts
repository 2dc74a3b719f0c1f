import { join } from 'node:path';
import type { ExpectedView } from './fault-checks.js';

/** The pyramid of the fault tests' datasets: two levels, so a coarser level is checked too. */
export const FAULT_SUBSAMPLING = [
  [1, 1, 1],
  [2, 2, 2],
];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whole seconds since `since`, for a scenario's duration line. */
export const secondsSince = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

/** Views of tiles (setups) 0..n-1 at time 0, read from `<dir>/<prefix><tile>.npy`. */
export const tileViews = (dir: string, prefix: string, n: number): (ExpectedView & { tile: number })[] =>
  Array.from({ length: n }, (_, tile) => ({
    time: 0,
    setup: tile,
    tile,
    viewKey: `t0-i0-c0-s${tile}-a0`,
    npy: join(dir, `${prefix}${tile}.npy`),
  }));
