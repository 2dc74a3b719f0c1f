import {
  BdvWriter,
  checksumPathFor,
  inspectBdvFile,
  isStagedFileOf,
  partitionFilesBeside,
  readChecksumFile,
  resolveFormat,
  sha256Of,
  xmlPathFor,
  type BdvFileSummary,
  type BdvFormat,
  type BdvWriterOptions,
  type ViewChecksums,
} from '@bdv-cluster/bdv';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError } from '../cli-error.js';
import { layoutProblem, pyramidProblem, storedFormatProblem, viewProblem } from './output-compat.js';
import { foreignFile, isForeignFile } from './foreign-file.js';
import type { PlannedView } from './planned-view.js';

export interface OutputRequest {
  output: string;
  options: BdvWriterOptions;
  /** Continue an earlier, interrupted run into `output` instead of starting a new one. */
  resume: boolean;
}

/**
 * The writer of a conversion: a new output, or (`resume`) the earlier run's output with the views
 * it finished and that still read back as written (BdvWriter.resume). An earlier output written
 * with other options, or holding views this run would describe differently, is refused before
 * anything in it changes.
 */
export async function openOutput(req: OutputRequest, planned: readonly PlannedView[]): Promise<BdvWriter> {
  const { output, options } = req;
  if (!req.resume) return BdvWriter.create(output, options);
  const format = resolveFormat(options, options.slabBytes);
  const layout = options.layout ?? 'single';
  const sumsPath = checksumPathFor(xmlPathFor(output));
  const refuse = (problem: string) =>
    new CliError(
      `cannot resume into ${output}: ${problem}; ${
        isForeignFile(problem)
          ? 'it is kept: move it away or pick another output (--overwrite would replace it)'
          : 'run with the earlier options, or with --overwrite to start again'
      }`,
    );
  const problemNow = async (): Promise<string | undefined> => {
    const hasRecord = existsSync(sumsPath);
    const record = hasRecord ? readChecksumFile(sumsPath) : undefined;
    const recorded = record?.views ?? [];
    return (
      xmlProblem(output, hasRecord, record?.xmlSha256) ??
      layoutProblem(output, layout, recorded) ??
      viewProblem(format, planned, recorded) ??
      pyramidProblem(format, recorded) ??
      (layout === 'partitioned'
        ? ((await partitionedProblem(output, format, recorded, hasRecord)) ??
          (await unrecordedPartitionProblem(output, format, recorded, hasRecord)))
        : await singleFileProblem(output, format))
    );
  };
  const problem = await problemNow();
  if (problem) throw refuse(problem);
  if (layout === 'single' && existsSync(output) && !existsSync(sumsPath))
    return startOver(output, options, sumsPath);
  // Asked again once the fence is held: a run that held it meanwhile (another --resume, a live
  // conversion) may have changed what the first answer was about.
  const writer = await BdvWriter.resume(output, options, async () => {
    const changed = await problemNow();
    if (changed) throw refuse(changed);
  });
  try {
    // Checked again now that the writer holds the file's fence and undid a crashed append.
    const stored = layout === 'single' ? await summaryOf(output) : undefined;
    const storedProblem = stored && storedFormatProblem(stored, format, true);
    if (storedProblem) throw refuse(storedProblem);
    removeStagedFiles(output);
    return writer;
  } catch (error) {
    await writer.close();
    throw error;
  }
}

/**
 * A single .h5 with no checksum record: the earlier run was stopped before its first view was
 * recorded (the file holds setup headers only, or a crashed first append's journal lies beside
 * it — the rollback journal of libs/bdv's h5/rollback-journal.ts). Nothing to keep: start again.
 * A file holding views is somebody else's (or its record was deleted): refused.
 */
async function startOver(output: string, options: BdvWriterOptions, sumsPath: string): Promise<BdvWriter> {
  if (!existsSync(`${output}.journal`)) {
    const summary = await summaryOf(output);
    if (!summary || summary.setups.length === 0 || summary.views.length > 0)
      throw new CliError(
        `cannot resume into ${output}: it is not an output this command started (it holds views, or is no BDV file, and no ${basename(sumsPath)} records which views are whole); run with --overwrite to replace it`,
      );
  }
  return BdvWriter.create(output, { ...options, overwrite: true });
}

/**
 * A partitioned output's master and one recorded partition, compared with this run's format; then
 * the master's own shape: this command's holds setup headers and external links to its
 * partitions, and links views only once their record exists — anything else at the output's name
 * is not ours. The master is inspected once for both.
 */
async function partitionedProblem(
  output: string,
  format: BdvFormat,
  recorded: readonly ViewChecksums[],
  hasRecord: boolean,
): Promise<string | undefined> {
  const present = existsSync(output);
  const master = present ? await summaryOf(output) : undefined;
  const problem = master && storedFormatProblem(master, format, true);
  if (problem) return problem;
  for (const view of recorded) {
    const partition = await summaryOf(join(dirname(output), view.file));
    if (!partition) continue;
    const partitionProblem = storedFormatProblem(partition, format, false);
    if (partitionProblem) return partitionProblem;
    break;
  }
  if (!present) return undefined;
  const name = basename(output);
  if (!master || master.setups.length === 0)
    return foreignFile(`${name} is not a master this command wrote (no BDV file)`);
  if (master.views.some((v) => v.levels.some((l) => l.externalFile === undefined)))
    return foreignFile(`${name} holds views of its own (a single-layout file), not links to partitions`);
  if (!hasRecord && master.views.length > 0)
    return `${name} links ${master.views.length} view(s) and no ${basename(checksumPathFor(xmlPathFor(output)))} records which are whole`;
  return undefined;
}

/**
 * An XML beside the output that no checksum record vouches for is not this command's, and one
 * changed since the run that recorded it (saved by BigStitcher with registrations, edited by hand)
 * is no longer only this command's: either is kept, never rewritten.
 */
function xmlProblem(output: string, hasRecord: boolean, xmlSha256: string | undefined): string | undefined {
  const xml = xmlPathFor(output);
  if (!existsSync(xml)) return undefined;
  const name = basename(xml);
  if (!hasRecord)
    return foreignFile(
      `${name} is there, but no ${basename(checksumPathFor(xml))} says an earlier run of this command wrote it`,
    );
  if (xmlSha256 !== undefined && sha256Of(xml) !== xmlSha256)
    return foreignFile(`${name} was changed after this command wrote it (saved by BigStitcher or by hand?)`);
  return undefined;
}

/**
 * Partition files beside the output that its record does not list. Without a record, any is
 * somebody else's (or the record was lost): refused. With one, a partition of this run's format
 * holding exactly the view its name says is this conversion's own (committed just before a stop,
 * not yet recorded) and is written again; anything else is refused.
 */
async function unrecordedPartitionProblem(
  output: string,
  format: BdvFormat,
  recorded: readonly ViewChecksums[],
  hasRecord: boolean,
): Promise<string | undefined> {
  const listed = new Set(recorded.map((v) => v.file));
  for (const named of partitionFilesBeside(output)) {
    const { name } = named;
    if (listed.has(name)) continue;
    if (!hasRecord)
      return foreignFile(
        `${name} is there and no ${basename(checksumPathFor(xmlPathFor(output)))} records which views are whole`,
      );
    const partition = await summaryOf(join(dirname(output), name));
    const view = partition?.views.length === 1 ? partition.views[0]! : undefined;
    const own =
      view !== undefined &&
      view.time === named.time &&
      view.setupId === named.setupId &&
      storedFormatProblem(partition!, format, false) === undefined;
    if (!own) return foreignFile(`${name} is not a partition of this conversion (no record lists it)`);
  }
  return undefined;
}

/**
 * A single .h5 compared before anything is re-read (a refusal comes at once); skipped while a
 * crashed append's journal lies beside it, as the file is only consistent once that is undone.
 */
async function singleFileProblem(output: string, format: BdvFormat): Promise<string | undefined> {
  if (existsSync(`${output}.journal`)) return undefined;
  const stored = await summaryOf(output);
  return stored && storedFormatProblem(stored, format, true);
}

/** A file's structure, or undefined when it is absent or unreadable (then it is rewritten anyway). */
async function summaryOf(path: string): Promise<BdvFileSummary | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return await inspectBdvFile(path);
  } catch {
    return undefined;
  }
}

/**
 * Temporary files an interrupted run left beside the output: partitions staged by a thread that
 * was stopped, a master or new file being built, the XML or checksum record being replaced
 * (libs/bdv's view-files.ts, dataset-file.ts and file-writes.ts name them `.<file>.<tag>.tmp` and
 * `<file>.<pid>.tmp`). Only called while holding the output's fence: no live writer owns them.
 */
export function removeStagedFiles(output: string): void {
  const folder = dirname(output);
  for (const name of readdirSync(folder))
    if (isStagedFileOf(output, name)) rmSync(join(folder, name), { force: true });
}
