import { readFileSync } from 'node:fs';
import { BdvError } from '../errors.js';
import { CHECKSUM_ALGORITHM, type LevelChecksum } from '../model/checksums.js';
import type { ViewRecord } from '../model/view-metadata.js';
import { writeFileAtomically } from './file-writes.js';

/** The checksums of one written view: which file holds it, and what each level must read back as. */
export interface ViewChecksums {
  time: number;
  setupId: number;
  /** The .h5 holding the view's cells, relative to the XML (a partition, or the single file). */
  file: string;
  levels: LevelChecksum[];
  /** The view as the XML describes it (lets a resumed conversion write the same XML). */
  record?: ViewRecord;
}

/** `<name>.checksums.json` beside the XML. `complete: false` while a conversion is under way. */
export interface ChecksumFile {
  format: 'bdv-cluster checksums';
  version: 1;
  algorithm: typeof CHECKSUM_ALGORITHM;
  complete: boolean;
  views: ViewChecksums[];
}

export function checksumPathFor(xmlPath: string): string {
  return xmlPath.replace(/\.xml$/i, '') + '.checksums.json';
}

/**
 * Writes the checksums record whole (temporary file, fsync, rename). While a conversion is under
 * way it is rewritten after every view without fsyncing the folder, one fsync less per view: if a
 * power failure loses the rename, the previous record is found and resume writes the newest view
 * again (it keeps only views the record lists and that read back as recorded). The next view's
 * journal, or the complete record at the end, fsyncs the folder anyway.
 */
export function writeChecksumFile(path: string, views: readonly ViewChecksums[], complete: boolean): void {
  const sorted = [...views].sort((a, b) => a.time - b.time || a.setupId - b.setupId);
  const file: ChecksumFile = {
    format: 'bdv-cluster checksums',
    version: 1,
    algorithm: CHECKSUM_ALGORITHM,
    complete,
    views: sorted,
  };
  const text = `${JSON.stringify(file, null, 1)}\n`;
  writeFileAtomically(path, text, { fsyncFolder: complete });
}

/** Reads and checks a checksum file; a missing or malformed one is a BdvError naming it. */
export function readChecksumFile(path: string): ChecksumFile {
  let parsed: Partial<ChecksumFile>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ChecksumFile>;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new BdvError('INVALID_ARGUMENT', `${path}: ${reason}`, 'checksums');
  }
  const wellFormed =
    parsed.format === 'bdv-cluster checksums' &&
    parsed.version === 1 &&
    parsed.algorithm === CHECKSUM_ALGORITHM &&
    Array.isArray(parsed.views) &&
    parsed.views.every(
      (v) =>
        Number.isInteger(v.time) &&
        Number.isInteger(v.setupId) &&
        typeof v.file === 'string' &&
        Array.isArray(v.levels) &&
        v.levels.every((l) => /^[0-9a-f]{8}$/.test(l.crc32) && Array.isArray(l.shapeZyx)),
    );
  if (!wellFormed)
    throw new BdvError(
      'INVALID_ARGUMENT',
      `${path}: not a bdv-cluster checksum file (version 1)`,
      'checksums',
    );
  return parsed as ChecksumFile;
}
