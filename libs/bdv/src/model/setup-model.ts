import { BdvError, invalid } from '../errors.js';
import { MAX_SETUP_COUNT, MAX_SETUPS, MAX_TIMEPOINTS, MAX_VIEWS } from './limits.js';

/** How many of each view attribute a dataset has; their product is the number of setups. */
export interface SetupCounts {
  illuminations: number;
  channels: number;
  tiles: number;
  angles: number;
}

/** The attribute indices that together select one setup. */
export interface SetupAttributes {
  illumination: number;
  channel: number;
  tile: number;
  angle: number;
}

/** One view = one timepoint of one setup. */
export interface ViewIndex extends SetupAttributes {
  time: number;
}

export const SETUP_ATTRIBUTE_NAMES = ['illumination', 'channel', 'tile', 'angle'] as const;
export type SetupAttributeName = (typeof SETUP_ATTRIBUTE_NAMES)[number];

const COUNT_OF: Record<SetupAttributeName, keyof SetupCounts> = {
  illumination: 'illuminations',
  channel: 'channels',
  tile: 'tiles',
  angle: 'angles',
};

export function countFieldOf(attribute: SetupAttributeName): keyof SetupCounts {
  return COUNT_OF[attribute];
}

export const SINGLE_SETUP: SetupCounts = { illuminations: 1, channels: 1, tiles: 1, angles: 1 };

export function resolveSetupCounts(partial: Partial<SetupCounts> = {}): SetupCounts {
  const counts = { ...SINGLE_SETUP, ...partial };
  for (const key of Object.keys(SINGLE_SETUP) as (keyof SetupCounts)[]) {
    const n = counts[key];
    if (!Number.isInteger(n) || n < 1 || n > MAX_SETUP_COUNT)
      throw invalid(`setup.${key}`, `must be an integer 1..${MAX_SETUP_COUNT}, got ${n}`);
  }
  const setups = setupCount(counts);
  if (setups > MAX_SETUPS)
    throw invalid('setup', `${setups} setups (the product of the four counts) is more than ${MAX_SETUPS}`);
  return counts;
}

/** Why a dataset of `timepoints` x these setups is refused, or undefined (see model/limits.ts). */
export function timepointsProblem(c: SetupCounts, timepoints: number): string | undefined {
  if (!Number.isInteger(timepoints) || timepoints < 1 || timepoints > MAX_TIMEPOINTS)
    return `must be an integer 1..${MAX_TIMEPOINTS}, got ${timepoints}`;
  const views = timepoints * setupCount(c);
  if (views > MAX_VIEWS)
    return `${timepoints} timepoints x ${setupCount(c)} setups = ${views} views is more than ${MAX_VIEWS}`;
  return undefined;
}

export function assertTimepoints(c: SetupCounts, timepoints: number): void {
  const problem = timepointsProblem(c, timepoints);
  if (problem) throw invalid('timepoints', problem);
}

export function setupCount(c: SetupCounts): number {
  return c.illuminations * c.channels * c.tiles * c.angles;
}

/** npy2bdv's id: row-major over (illumination, channel, tile, angle), angle fastest. */
export function setupIdOf(c: SetupCounts, a: SetupAttributes): number {
  assertAttributesInRange(c, a);
  return ((a.illumination * c.channels + a.channel) * c.tiles + a.tile) * c.angles + a.angle;
}

export function setupAttributesOf(c: SetupCounts, setupId: number): SetupAttributes {
  if (!Number.isInteger(setupId) || setupId < 0 || setupId >= setupCount(c)) {
    throw new BdvError('OUT_OF_RANGE', `setup id ${setupId} outside 0..${setupCount(c) - 1}`, 'setup');
  }
  const angle = setupId % c.angles;
  let rest = (setupId - angle) / c.angles;
  const tile = rest % c.tiles;
  rest = (rest - tile) / c.tiles;
  const channel = rest % c.channels;
  const illumination = (rest - channel) / c.channels;
  return { illumination, channel, tile, angle };
}

export function assertAttributesInRange(c: SetupCounts, a: SetupAttributes): void {
  for (const name of SETUP_ATTRIBUTE_NAMES) {
    const value = a[name];
    const count = c[COUNT_OF[name]];
    if (!Number.isInteger(value) || value < 0 || value >= count) {
      throw new BdvError(
        'OUT_OF_RANGE',
        `${name} index ${value} is outside 0..${count - 1} (the dataset has ${count} ${count === 1 ? name : COUNT_OF[name]})`,
        name,
      );
    }
  }
}

export function assertTimeIndex(time: number): void {
  if (!Number.isInteger(time) || time < 0 || time >= MAX_TIMEPOINTS) {
    throw new BdvError(
      'OUT_OF_RANGE',
      `time index must be an integer 0..${MAX_TIMEPOINTS - 1}, got ${time}`,
      'time',
    );
  }
}
