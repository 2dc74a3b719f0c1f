import { checksumPathFor, partitionFilesBeside, xmlPathFor } from '@bdv-cluster/bdv';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError } from '../cli-error.js';
import type { PlannedView } from './planned-view.js';

/**
 * Refuses a conversion that reads one of the files it writes — the same file by device and inode
 * (as 64-bit integers: some NFS and FUSE inode numbers pass 2^53), whatever the names or links:
 * `--overwrite` replaced an input named like the output with a new empty file before its pixels
 * were read, and the error then blamed the input. Checked before the output is touched, also on
 * resume (it would append into its own input).
 */
export function assertInputsAreNotOutputs(planned: readonly PlannedView[], output: string): void {
  const xml = xmlPathFor(output);
  const outputs = [
    output,
    xml,
    checksumPathFor(xml),
    `${output}.journal`,
    ...partitionFilesBeside(output).map((p) => join(dirname(output), p.name)),
  ];
  const byFile = new Map<string, string>();
  for (const file of outputs) {
    const stats = statSync(file, { throwIfNoEntry: false, bigint: true });
    if (stats) byFile.set(`${stats.dev}:${stats.ino}`, file);
  }
  if (byFile.size === 0) return;
  for (const view of planned) {
    const stats = statSync(view.path, { throwIfNoEntry: false, bigint: true });
    const same = stats && byFile.get(`${stats.dev}:${stats.ino}`);
    if (same)
      throw new CliError(
        `${view.path}: is an input and also ${same === output ? 'the output' : `a file of the output (${same})`}; pick another output (-o): nothing was changed`,
      );
  }
}
