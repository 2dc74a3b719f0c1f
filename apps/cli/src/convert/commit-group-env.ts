import { DEFAULT_COMMIT_GROUP, type CommitGroupLimits } from '@bdv-cluster/bdv';
import { CliError } from '../cli-error.js';

const MAX_MIB = 65536;

/**
 * How many MiB of views one commit of a single-layout output may hold (BDV_COMMIT_GROUP_MIB,
 * default 256): what a crash or power failure can undo at most. 0 commits every view on its own,
 * the slowest and safest for many small views. Ctrl-C and failures undo only the view being
 * written either way.
 */
export function commitGroupFromEnv(env: NodeJS.ProcessEnv = process.env): CommitGroupLimits {
  const text = env.BDV_COMMIT_GROUP_MIB?.trim();
  if (text === undefined || text === '') return DEFAULT_COMMIT_GROUP;
  const mib = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(mib <= MAX_MIB))
    throw new CliError(`BDV_COMMIT_GROUP_MIB: expected an integer from 0 to ${MAX_MIB} (MiB); got "${text}"`);
  return mib === 0 ? { bytes: 0, seconds: 0 } : { ...DEFAULT_COMMIT_GROUP, bytes: mib * 1024 * 1024 };
}
