import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import {
  BdvError,
  checksumPathFor,
  masterOfPartition,
  verifyDataset,
  xmlPathFor,
  type VerifyReport,
} from '@bdv-cluster/bdv';
import { ViewThreadPool } from '@bdv-cluster/convert';
import { CliError } from '../cli-error.js';
import { MAX_JOBS, parseInteger } from '../convert/option-lists.js';

/** `bdv verify`: every view re-read and compared with its recorded checksums; exit 1 on any difference. */
export async function verifyXml(given: string, flags: { json?: boolean; jobs?: string }): Promise<void> {
  const xml = datasetXmlOf(given);
  const jobs =
    flags.jobs === undefined
      ? Math.min(availableParallelism(), MAX_JOBS)
      : parseInteger(flags.jobs, '--jobs', 1, MAX_JOBS);
  assertFinished(resolve(xml));
  const report = await verify(resolve(xml), jobs);
  process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : render(report));
  process.exitCode = report.ok ? 0 : 1;
}

/**
 * The dataset's XML: as given, or the one beside a given .h5 (its own, or a partition's dataset's:
 * `<name>-t00000-s00.h5` belongs to `<name>.xml`); the report names the XML it read.
 */
function datasetXmlOf(given: string): string {
  if (!/\.h5$/i.test(given)) return given;
  const own = xmlPathFor(given);
  if (existsSync(own)) return own;
  const master = masterOfPartition(given);
  const ofMaster = master && xmlPathFor(master);
  // Without an XML, assertFinished says whether a conversion was stopped: the dataset's, for a
  // partition of a dataset whose master or record is beside it.
  if (master && ofMaster && [ofMaster, master, checksumPathFor(ofMaster)].some(existsSync)) return ofMaster;
  if (existsSync(given)) return own;
  throw new CliError(
    `${given}: give the dataset's .xml (the .h5 is found through it; none is beside this file)`,
  );
}

/**
 * No XML, but the files a conversion writes before it (the .h5, the checksum record): bdv convert
 * writes the XML last, so that run was stopped, and "no such file" sent users looking for a file
 * that was never there.
 */
function assertFinished(xml: string): void {
  if (existsSync(xml)) return;
  const h5 = xml.replace(/\.xml$/i, '.h5');
  const left = [h5, checksumPathFor(xml)].filter((file) => file !== xml && existsSync(file));
  if (left.length === 0) return;
  throw new CliError(
    `${xml}: no such file, but ${left.map((file) => basename(file)).join(' and ')} ${left.length > 1 ? 'are' : 'is'} there: the conversion into ${h5} did not finish (the XML is written last); run the same bdv convert command with --resume to finish it, then verify`,
  );
}

/** The library's report; a missing checksum file gets a line saying why it matters. */
async function verify(xml: string, jobs: number): Promise<VerifyReport> {
  // One thread: read here (no thread to start, no second HDF5 module to load).
  const threads = jobs > 1 ? new ViewThreadPool() : undefined;
  try {
    return await verifyDataset(
      xml,
      threads ? { checkFiles: { check: (file) => threads.check(file), concurrency: jobs } } : {},
    );
  } catch (error) {
    if (error instanceof BdvError && error.field === 'checksums' && /: no such file$/.test(error.message))
      throw new CliError(
        `${error.message} (written beside the XML by bdv convert and the cluster: without it the views cannot be checked)`,
      );
    throw error;
  } finally {
    await threads?.close();
  }
}

/** One line per view that does not verify (view, file, what per level), dataset problems, a summary. */
function render(report: VerifyReport): string {
  const lines: string[] = [];
  const differ = report.views.filter((v) => v.problems.length > 0);
  for (const v of differ)
    lines.push(`timepoint ${v.time} setup ${v.setupId} (${v.file}): ${v.problems.join('; ')}`);
  for (const problem of report.problems) lines.push(`dataset: ${problem}`);
  const total = report.views.length;
  lines.push(
    report.ok
      ? `${report.xml}: all ${total} view(s) read back as written (every level's CRC-32 matches)`
      : `${report.xml}: ${differ.length} of ${total} view(s) did not read back as written` +
          (report.problems.length > 0 ? `, ${report.problems.length} dataset problem(s)` : ''),
  );
  return `${lines.join('\n')}\n`;
}
