import { closeSync, existsSync, openSync } from 'node:fs';
import pMap from 'p-map';
import { dirname, join } from 'node:path';
import { BdvError } from '../errors.js';
import { BdvH5File } from '../h5/bdv-h5-file.js';
import { pageDropper } from '../h5/native-memory.js';
import { journalPathOf, rollBack } from '../h5/rollback-journal.js';
import { WriterFence } from '../h5/writer-fence.js';
import { checksumPathFor, readChecksumFile, type ViewChecksums } from '../writer/checksum-file.js';
import { partitionsByView, readSpimDataXml } from './read-spimdata.js';
import { checksumOfLevelFromFile } from './level-reader.js';

/** One view's verdict: empty `problems` means every level reads back as written. */
export interface ViewVerdict {
  time: number;
  setupId: number;
  file: string;
  problems: string[];
}

export interface VerifyReport {
  xml: string;
  ok: boolean;
  views: ViewVerdict[];
  /** Problems of the dataset as a whole (files missing, views the XML and checksums disagree on). */
  problems: string[];
}

/** One file's share of a verification, as plain data: it can be checked on another thread. */
export interface FileCheck {
  path: string;
  /** As the XML names it (in the verdicts). */
  name: string;
  views: ViewChecksums[];
}

/** Checks one file's views, wherever it runs (`checkFile` here, or a worker thread). */
export type FileChecker = (check: FileCheck) => Promise<ViewVerdict[]>;

export interface VerifyOptions {
  /**
   * Take each single-layout file's write fence while reading it (and roll back a crashed append
   * first), as the finalizer does: a paused writer may still hold it. Waits for it as a writer does
   * (WriterFence.acquire), FILE_LOCKED after.
   */
  fenced?: boolean;
  /**
   * Checks unfenced files (partitions) elsewhere, `concurrency` at once: one HDF5 module
   * decompresses on one core, so a partitioned dataset verifies on as many threads as it is
   * given. Default: `checkFile`, here, one file after the other.
   */
  checkFiles?: { check: FileChecker; concurrency: number };
}

/**
 * Re-reads every view the XML lists, level by level, and compares it with the checksums written
 * beside it (`<name>.checksums.json`): what `bdv verify` and the finalizer run.
 */
export async function verifyDataset(xmlPath: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const dataset = readSpimDataXml(xmlPath);
  const partitionOf = partitionsByView(dataset);
  const sums = readChecksumFile(checksumPathFor(xmlPath));
  const recorded = new Map(sums.views.map((v) => [`${v.time}:${v.setupId}`, v]));
  const report: VerifyReport = { xml: xmlPath, ok: true, views: [], problems: [] };
  const listed = new Set(dataset.views.map((v) => `${v.time}:${v.setupId}`));
  for (const extra of sums.views.filter((v) => !listed.has(`${v.time}:${v.setupId}`)))
    report.problems.push(`t${extra.time} s${extra.setupId}: has checksums but the XML does not list it`);
  const byFile = new Map<string, ViewChecksums[]>();
  for (const view of dataset.views) {
    const expected = recorded.get(`${view.time}:${view.setupId}`);
    const file = partitionOf.get(`${view.time}:${view.setupId}`)?.path ?? dataset.hdf5;
    if (!expected) {
      report.views.push({ ...view, file, problems: ['no checksum was recorded for it'] });
      continue;
    }
    const inFile = byFile.get(file);
    if (inFile) inFile.push(expected);
    else byFile.set(file, [expected]);
  }
  const checks = [...byFile].map(([file, views]) => ({
    path: join(dirname(xmlPath), file),
    name: file,
    views,
  }));
  // Only a single-layout file is ever appended to (and fenced); partitions and masters appear whole.
  const isFenced = (c: FileCheck) =>
    options.fenced === true && dataset.partitions.length === 0 && c.name === dataset.hdf5;
  const verdicts: ViewVerdict[][] = [];
  for (const c of checks.filter(isFenced)) verdicts.push(await checkFile(c, true));
  const { check = checkFile, concurrency = 1 } = options.checkFiles ?? {};
  const unfenced = checks.filter((c) => !isFenced(c));
  // Not `check` itself: pMap passes the index second, which checkFile would take as `fenced`.
  verdicts.push(...(await pMap(unfenced, (c) => check(c), { concurrency })));
  report.views.push(...verdicts.flat());
  report.views.sort((a, b) => a.time - b.time || a.setupId - b.setupId);
  report.ok = report.problems.length === 0 && report.views.every((v) => v.problems.length === 0);
  return report;
}

/**
 * Reads one file's views back and compares every level with its checksums. `fenced`: under the
 * file's write fence, after rolling back a crashed append (the single layout in the finalizer).
 */
export async function checkFile({ path, name, views }: FileCheck, fenced = false): Promise<ViewVerdict[]> {
  const verdicts = (problem: string) =>
    views.map((v) => ({ time: v.time, setupId: v.setupId, file: name, problems: [problem] }));
  if (!existsSync(path)) return verdicts(`${name} does not exist`);
  const fence = fenced ? await WriterFence.acquire(path) : undefined;
  try {
    if (fence) rollBack(path);
    else if (existsSync(journalPathOf(path)))
      return verdicts(`${name} has an unfinished append (a .journal beside it)`);
    const fd = openSync(path, 'r');
    const file = await BdvH5File.openForReading(path).catch((error: unknown) => {
      closeSync(fd);
      throw error;
    });
    try {
      const checked: ViewVerdict[] = [];
      for (const v of views)
        checked.push({
          time: v.time,
          setupId: v.setupId,
          file: name,
          problems: await compareLevels(file, fd, v),
        });
      return checked;
    } finally {
      // Reading chunk after chunk, Linux read ahead into the other levels' chunks and kept what
      // no slab of ours dropped (~20 % of a 4.6 GB three-level file): let the file go whole.
      pageDropper()?.(fd);
      closeSync(fd);
      file.close();
    }
  } catch (error) {
    if (error instanceof BdvError && error.code === 'FILE_LOCKED') throw error;
    return verdicts(`${name} cannot be read: ${(error as Error).message}`);
  } finally {
    await fence?.release();
  }
}

async function compareLevels(file: BdvH5File, fd: number, expected: ViewChecksums): Promise<string[]> {
  const problems: string[] = [];
  for (const want of expected.levels) {
    let got;
    try {
      got = await checksumOfLevelFromFile(file, fd, expected.time, expected.setupId, want.level);
    } catch (error) {
      // A chunk index or chunk that does not read: this level is broken, the others may not be.
      problems.push(`level ${want.level}: cannot be read: ${(error as Error).message}`);
      continue;
    }
    if (!got) problems.push(`level ${want.level}: missing`);
    else if (got.shapeZyx.join() !== want.shapeZyx.join())
      problems.push(
        `level ${want.level}: shape ${got.shapeZyx.join('x')}, expected ${want.shapeZyx.join('x')}`,
      );
    else if (got.crc32 !== want.crc32)
      problems.push(
        `level ${want.level}: pixels differ from what was written (crc32 ${got.crc32}, expected ${want.crc32})`,
      );
  }
  return problems;
}
