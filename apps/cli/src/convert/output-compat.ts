import {
  describeView,
  levelShape,
  partitionPathFor,
  setupCount,
  setupIdOf,
  type BdvFileSummary,
  type BdvFormat,
  type Layout,
  type ViewChecksums,
} from '@bdv-cluster/bdv';
import { basename } from 'node:path';
import { foreignFile } from './foreign-file.js';
import type { PlannedView } from './planned-view.js';

// Whether an earlier run's output can be continued by this run (`bdv convert --resume`): each
// function names the first difference in the user's terms, or returns undefined. A resumed
// conversion keeps views as they were written, so any difference in how they were stored or
// described would leave a dataset that no single run could have written.

const key = (time: number, setupId: number) => `${time}:${setupId}`;
const levelsText = (levels: readonly (readonly number[])[]) => levels.map((l) => l.join(',')).join(':');

/**
 * The checksum file names each view's file: the .h5 itself (single) or the view's partition. Any
 * other name means the record is not this output's (files renamed): nothing in it can be trusted.
 */
export function layoutProblem(
  h5Path: string,
  layout: Layout,
  recorded: readonly ViewChecksums[],
): string | undefined {
  for (const view of recorded) {
    const partition = basename(partitionPathFor(h5Path, view.time, view.setupId));
    const earlier =
      view.file === basename(h5Path) ? 'single' : view.file === partition ? 'partitioned' : undefined;
    if (!earlier)
      return `its checksum record puts view t${view.time} setup ${view.setupId} in ${view.file}, not in ${basename(h5Path)} or ${partition} (were the files renamed?)`;
    if (earlier !== layout) return `the earlier run wrote the ${earlier} layout, this run asks for ${layout}`;
  }
  return undefined;
}

/** Every view written earlier must be one this run lists, described the same way. */
export function viewProblem(
  format: BdvFormat,
  planned: readonly PlannedView[],
  recorded: readonly ViewChecksums[],
): string | undefined {
  const wanted = new Map(planned.map((v) => [key(v.spec.time, setupIdOf(format.setup, v.spec)), v]));
  for (const done of recorded) {
    const view = wanted.get(key(done.time, done.setupId));
    if (!view) return `it holds view t${done.time} setup ${done.setupId}, which this run does not list`;
    if (!done.record) continue;
    const now = describeView(format.setup, view.spec, view.shapeZyx) as unknown as Record<string, unknown>;
    const then = done.record as unknown as Record<string, unknown>;
    for (const field of new Set([...Object.keys(now), ...Object.keys(then)])) {
      const [a, b] = [JSON.stringify(then[field]), JSON.stringify(now[field])];
      if (a !== b) return `view ${view.key}: ${field} was ${a ?? 'unset'}, this run has ${b ?? 'unset'}`;
    }
  }
  return undefined;
}

/** The recorded level shapes tell the earlier pyramid (readable even before a crashed append is undone). */
export function pyramidProblem(format: BdvFormat, recorded: readonly ViewChecksums[]): string | undefined {
  for (const done of recorded) {
    const shape = done.record?.shapeZyx ?? done.levels[0]?.shapeZyx;
    if (!shape) continue;
    const expected = format.levels.map((l) => levelShape(shape, l.factorsZyx));
    if (levelsText(expected) !== levelsText(done.levels.map((l) => l.shapeZyx)))
      return `its views have pyramid levels ${levelsText(done.levels.map((l) => l.shapeZyx))} (z,y,x), this run's subsampling gives ${levelsText(expected)}`;
  }
  return undefined;
}

/**
 * What a stored .h5 says of its format: setup count (`holdsAllSetups`: a single file or master,
 * not a partition), pyramid factors and chunks of its setup headers, the compression of its cells.
 * The gzip level is not compared: it changes the file size, never the pixels.
 */
export function storedFormatProblem(
  summary: BdvFileSummary,
  format: BdvFormat,
  holdsAllSetups: boolean,
): string | undefined {
  const setups = setupCount(format.setup);
  if (summary.setups.length === 0)
    return foreignFile(
      `${basename(summary.path)} holds no BDV setup (no sNN/resolutions): not an output of this command`,
    );
  if (holdsAllSetups && summary.setups.length !== setups)
    return `it has ${summary.setups.length} setup(s), this run has ${setups}`;
  const header = summary.setups[0];
  if (header) {
    const factors = levelsText(header.resolutionsXyz.map((r) => [...r].reverse()));
    const wantFactors = levelsText(format.levels.map((l) => l.factorsZyx));
    if (factors !== wantFactors)
      return `its subsampling (z,y,x) is ${factors}, this run asks for ${wantFactors}`;
    const blocks = levelsText(header.subdivisionsXyz.map((r) => [...r].reverse()));
    const wantBlocks = levelsText(format.levels.map((l) => l.blockZyx));
    if (blocks !== wantBlocks) return `its blocks (z,y,x) are ${blocks}, this run asks for ${wantBlocks}`;
  }
  const stored = summary.views.flatMap((v) => v.levels).find((l) => l.externalFile === undefined);
  if (stored) {
    const codec = stored.filters.includes('gzip') ? 'gzip' : stored.filters.includes('lzf') ? 'lzf' : 'none';
    if (codec !== format.compression.name)
      return `its compression is ${codec}, this run asks for ${format.compression.name}`;
  }
  return undefined;
}
