import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setupGroupName, timeGroupName } from '../h5/hdf5-paths.js';

/** `out.h5` -> `out.xml`, beside it (npy2bdv's convention). */
export function xmlPathFor(h5Path: string): string {
  return h5Path.replace(/\.h5$/i, '') + '.xml';
}

/** Partition file of one view in the `partitioned` layout, beside the master file. */
export function partitionPathFor(masterPath: string, time: number, setupId: number): string {
  const stem = basename(masterPath).replace(/\.h5$/i, '');
  return join(dirname(masterPath), `${stem}-${timeGroupName(time)}-${setupGroupName(setupId)}.h5`);
}

/** The view a partition file of the output `h5Path` holds, from its name; undefined if `name` is none. */
export function partitionNamed(h5Path: string, name: string): { time: number; setupId: number } | undefined {
  const stem = escapeRegExp(basename(h5Path).replace(/\.h5$/i, ''));
  const match = new RegExp(`^${stem}-t(\\d+)-s(\\d+)\\.h5$`).exec(name);
  return match ? { time: Number(match[1]), setupId: Number(match[2]) } : undefined;
}

/**
 * The master `.h5` of the dataset a file named like a partition (`<name>-t00000-s00.h5`) belongs
 * to, beside it (`<name>.h5`; it need not exist); undefined for any other name.
 */
export function masterOfPartition(path: string): string | undefined {
  const stem = /^(.+)-t\d{5,}-s\d{2,}\.h5$/i.exec(basename(path))?.[1];
  return stem === undefined ? undefined : join(dirname(path), `${stem}.h5`);
}

/** The files beside `h5Path` named like its partitions, by name, with the view each name says. */
export function partitionFilesBeside(h5Path: string): { name: string; time: number; setupId: number }[] {
  const folder = dirname(h5Path);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .sort()
    .flatMap((name) => {
      const view = partitionNamed(h5Path, name);
      return view ? [{ name, ...view }] : [];
    });
}

/**
 * Whether `name`, in the folder of `h5Path`, is a temporary file a writer of that output builds
 * and renames when whole (view-files.ts, dataset-file.ts, file-writes.ts): `.<stem>.h5.<tag>.tmp`,
 * `.<stem>-tN-sN.h5.<tag>.tmp`, `<stem>.xml.<pid>.tmp`, `<stem>.checksums.json.<pid>.tmp`, and the
 * finalizer's `.<stem>.pending.xml|checksums.json.<pid>.tmp` (publish.ts). Only
 * these may be cleaned up as abandoned; any other file in the folder is somebody's (also those of
 * an output whose name differs only in case).
 */
export function isStagedFileOf(h5Path: string, name: string): boolean {
  const stem = escapeRegExp(basename(h5Path).replace(/\.h5$/i, ''));
  return (
    new RegExp(`^\\.${stem}(?:\\.[hH]5|-t\\d+-s\\d+\\.h5)\\.[0-9a-z-]+\\.tmp$`).test(name) ||
    new RegExp(`^(?:${stem}|\\.${stem}\\.pending)\\.(?:xml|checksums\\.json)\\.\\d+\\.tmp$`).test(name)
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
