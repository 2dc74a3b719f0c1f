import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BdvError } from '../errors.js';
import { BdvH5File } from '../h5/bdv-h5-file.js';
import { rollBack } from '../h5/rollback-journal.js';
import type { LevelChecksum } from '../model/checksums.js';
import type { Layout } from '../model/layout.js';
import type { ViewRecord } from '../model/view-metadata.js';
import { checksumOfLevel } from '../verify/level-reader.js';
import type { BdvFormat } from './bdv-format.js';
import { checksumPathFor, readChecksumFile, type ViewChecksums } from './checksum-file.js';
import { xmlPathFor } from './output-paths.js';

/** A view an interrupted conversion finished, read back and found as written: kept on resume. */
export interface KeptView {
  record: ViewRecord;
  sums: LevelChecksum[];
  partition?: string;
}

/**
 * The views an earlier run of a conversion into `h5Path` committed and recorded that still read
 * back exactly as written. A crashed append is rolled back first (the caller holds the fence).
 * Views whose file is gone or differs are dropped: they will be written again.
 */
export async function resumableViews(h5Path: string, format: BdvFormat, layout: Layout): Promise<KeptView[]> {
  const sumsPath = checksumPathFor(xmlPathFor(h5Path));
  if (!existsSync(sumsPath)) {
    if (existsSync(h5Path) && layout === 'single')
      throw new BdvError(
        'STATE',
        `${basename(h5Path)} has no checksum record beside it: cannot tell which views are whole; convert again with overwrite`,
        'output',
      );
    return [];
  }
  const recorded = readChecksumFile(sumsPath).views.filter((v) => v.record);
  if (layout === 'single') rollBack(h5Path);
  const kept: KeptView[] = [];
  for (const view of recorded) {
    const path = join(dirname(h5Path), view.file);
    if (!existsSync(path) || !(await readsBackAsWritten(path, view, format, layout))) continue;
    kept.push({
      record: view.record!,
      sums: view.levels,
      partition: layout === 'partitioned' ? view.file : undefined,
    });
  }
  return kept;
}

async function readsBackAsWritten(
  path: string,
  view: ViewChecksums,
  format: BdvFormat,
  layout: Layout,
): Promise<boolean> {
  if (view.levels.length !== format.levels.length) return false;
  try {
    const file = await BdvH5File.openForReading(path);
    try {
      return view.levels.every((want) => {
        const got = checksumOfLevel(file, view.time, view.setupId, want.level);
        return got !== undefined && got.crc32 === want.crc32 && got.shapeZyx.join() === want.shapeZyx.join();
      });
    } finally {
      file.close();
    }
  } catch (error) {
    // A partition HDF5 cannot read (cut short, overwritten) holds this one view: written again.
    // The single file holds every view: its failure is the caller's to hear.
    if (layout === 'partitioned') return false;
    throw error;
  }
}
