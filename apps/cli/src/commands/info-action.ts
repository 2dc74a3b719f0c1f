import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import {
  checksumPathFor,
  inspectBdvFile,
  masterOfPartition,
  readChecksumFile,
  xmlPathFor,
  type BdvFileSummary,
} from '@bdv-cluster/bdv/inspect';
import { CliError } from '../cli-error.js';
import { humanBytes } from '../progress/byte-units.js';

/** `bdv info`: what a BDV .h5 holds, as text or JSON. */
export async function info(file: string, flags: { json?: boolean }): Promise<void> {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  if (/\.xml$/i.test(file))
    throw new CliError(`${file}: give the .h5 (bdv info reads the HDF5 file; bdv verify takes the .xml)`);
  const summary = await inspectBdvFile(file).catch((error: unknown) => {
    throw withInterruptionHint(file, error);
  });
  if (summary.setups.length === 0) throw new CliError(`${file}: no sNN/resolutions groups, not a BDV file`);
  const xml = xmlPathFor(file);
  const missing = missingPartitions(file, summary);
  const journal = `${file}.journal`;
  const uncommitted = existsSync(journal) ? uncommittedViews(xml, summary) : [];
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ ...summary, xml: existsSync(xml) ? xml : null, missingPartitions: missing, interrupted: existsSync(journal), uncommittedViews: uncommitted })}\n`,
    );
  else
    process.stdout.write(
      render(summary, statSync(file).size, existsSync(xml) ? xml : undefined, missing, uncommitted) +
        (existsSync(xml) ? '' : datasetXmlHint(file)),
    );
  if (missing.length > 0)
    throw new CliError(
      `${file}: ${missing.length} partition file(s) it links to are missing (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): their views cannot be read`,
    );
  if (existsSync(journal))
    throw new CliError(
      `${file}: a conversion into it was interrupted (${basename(journal)} is beside it)${uncommitted.length > 0 ? `: ${uncommitted.length} view(s) listed are not committed` : ''}; the same bdv convert with --resume rolls back what was not committed and finishes`,
    );
}

/**
 * Views the file holds that its conversion's record (<name>.checksums.json) does not: a
 * conversion killed mid-view leaves them in the file until --resume rolls them back. Without a
 * readable record none can be told apart, and none is named.
 */
function uncommittedViews(xml: string, s: BdvFileSummary): string[] {
  let recorded;
  try {
    recorded = readChecksumFile(checksumPathFor(xml)).views;
  } catch {
    return [];
  }
  const kept = new Set(recorded.map((v) => `${v.time}:${v.setupId}`));
  return s.views.filter((v) => !kept.has(`${v.time}:${v.setupId}`)).map((v) => `t${v.time} s${v.setupId}`);
}

/** A partition file (`<name>-t00000-s00.h5`) has no XML of its own: its dataset's is `<name>.xml`. */
function datasetXmlHint(file: string): string {
  const master = masterOfPartition(resolve(file));
  const xml = master && xmlPathFor(master);
  return xml && existsSync(xml)
    ? `  this is one view's partition of the dataset ${xml} (bdv info ${master} shows all of it)\n`
    : '';
}

/** The partition files a master's views link to that are not there (named as the links name them). */
function missingPartitions(file: string, s: BdvFileSummary): string[] {
  const linked = new Set(
    s.views.flatMap((v) => v.levels.flatMap((l) => (l.externalFile ? [l.externalFile] : []))),
  );
  return [...linked].filter((name) => !existsSync(resolve(dirname(file), name)));
}

/**
 * A file a conversion was killed in the middle of (its rollback journal beside it) fails to read
 * in HDF5: say what happened and what undoes it, not only what HDF5 choked on.
 */
function withInterruptionHint(file: string, error: unknown): unknown {
  const journal = `${file}.journal`;
  if (!existsSync(journal)) return error;
  return new CliError(
    `${file}: a conversion into it was interrupted (${basename(journal)} is beside it): run the same bdv convert with --resume to roll the unfinished view back and finish (${error instanceof Error ? error.message : String(error)})`,
  );
}

function render(
  s: BdvFileSummary,
  bytes: number,
  xml: string | undefined,
  missing: readonly string[],
  uncommitted: readonly string[],
): string {
  const lines = [`${s.path} (${humanBytes(bytes)})`];
  const first = s.setups[0]!;
  lines.push(`  setups: ${s.setups.length}, levels: ${first.resolutionsXyz.length}`);
  first.resolutionsXyz.forEach((r, l) =>
    // z,y,x as bdv convert says them (the file stores x,y,z, as BigDataViewer reads them).
    lines.push(
      `    level ${l}: subsampling ${[...r].reverse().join(',')}  block ${[...(first.subdivisionsXyz[l] ?? [])].reverse().join(',')} (z,y,x)`,
    ),
  );
  const times = new Set(s.views.map((v) => v.time));
  lines.push(`  views: ${s.views.length} over ${times.size} timepoint(s)`);
  for (const v of s.views) {
    const level0 = v.levels[0];
    const where = level0?.externalFile
      ? ` -> ${level0.externalFile}${missing.includes(level0.externalFile) ? ' (missing)' : ''}`
      : '';
    const shapes = v.levels.map((l) => (l.shapeZyx.length ? l.shapeZyx.join('x') : 'linked')).join(' | ');
    const filters = level0?.filters.length ? level0.filters.join('+') : 'none';
    const pending = uncommitted.includes(`t${v.time} s${v.setupId}`) ? '  (not committed)' : '';
    lines.push(
      `    t${v.time} s${v.setupId}: ${shapes} (z,y,x)  chunks ${level0?.chunksZyx?.join(',') ?? '-'}  compression ${filters}${where}${pending}`,
    );
  }
  if (xml) {
    const text = readFileSync(xml, 'utf8');
    const missing = (text.match(/<MissingView /g) ?? []).length;
    lines.push(
      `  XML: ${xml} (${(text.match(/<ViewSetup>/g) ?? []).length} ViewSetups, ${missing} missing view(s))`,
    );
  } else {
    lines.push('  XML: none beside it (Fiji needs one: the conversion writes it last)');
  }
  return `${lines.join('\n')}\n`;
}
