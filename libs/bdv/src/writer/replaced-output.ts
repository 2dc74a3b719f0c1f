import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inspectBdvFile } from '../h5/inspect-bdv-file.js';
import { checksumPathFor, readChecksumFile } from './checksum-file.js';
import { partitionNamed, xmlPathFor } from './output-paths.js';

/**
 * The partition files that belong to the output at `h5Path` (partitioned layout): those its
 * checksum record lists and those its master links, named as this output names partitions and
 * lying beside it. Replacing the output replaces them too: left, an interrupted replacement would
 * leave the old output's partitions among the new one's, refused on resume as nobody's.
 */
export async function partitionsOfOutput(h5Path: string): Promise<string[]> {
  const names = new Set<string>();
  const sums = checksumPathFor(xmlPathFor(h5Path));
  try {
    if (existsSync(sums)) for (const view of readChecksumFile(sums).views) names.add(view.file);
  } catch {
    // an unreadable record vouches for nothing
  }
  try {
    if (existsSync(h5Path))
      for (const view of (await inspectBdvFile(h5Path)).views)
        for (const level of view.levels) if (level.externalFile) names.add(level.externalFile);
  } catch {
    // not a master (a single-layout file, or no BDV file): it links nothing
  }
  return [...names]
    .filter((name) => basename(name) === name && partitionNamed(h5Path, name))
    .map((name) => join(dirname(h5Path), name))
    .filter((path) => existsSync(path));
}
