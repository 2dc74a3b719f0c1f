import { existsSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import {
  contactSheetPng,
  projectView,
  viewPreviewPng,
  viewsOfXml,
  type XmlView,
} from '@bdv-cluster/bdv/preview';
import { CliError } from '../cli-error.js';
import { SHEET_CELL_MAX } from './preview-sizes.js';
import type { ProjectionAxis } from '@bdv-cluster/bdv/vocabulary';

/** `bdv preview`'s options. */
export interface PreviewFlags {
  output: string;
  view?: ViewSelector;
  time?: number;
  axis: ProjectionAxis;
  size: number;
  overwrite?: boolean;
}

/** `t0-c1-s2`: letters t (time), i, c, s (tile), a with their indices; absent ones are 0. */
export type ViewSelector = Record<'t' | 'i' | 'c' | 's' | 'a', number>;

/** How long to wait for a writer appending to the same .h5 (`bdv convert --resume`, a batch). */
const WAIT_FOR_WRITER_MS = 60_000;

/** `bdv preview`, loaded only when it runs: HDF5 and the PNG encoder are not cheap to import. */
export async function preview(xml: string, flags: PreviewFlags): Promise<void> {
  if (/\.h5$/i.test(xml)) throw new CliError(`${xml}: give the dataset's .xml (the .h5 is found through it)`);
  const output = resolve(flags.output);
  // Only a PNG is ever written, so only a .png is ever replaced (never a dataset's .h5 or .xml).
  if (!/\.png$/i.test(output)) throw new CliError(`-o ${flags.output}: the preview is a PNG; name it *.png`);
  if (existsSync(output) && !flags.overwrite)
    throw new CliError(`${flags.output} exists (pass --overwrite to replace it)`);
  const views = viewsOfXml(resolve(xml));
  if (views.length === 0) throw new CliError(`${xml}: no view holds data`);
  // As bdv convert does for its output; before the projection, not after it (it had failed then).
  mkdirSync(dirname(output), { recursive: true });
  const line = flags.view
    ? await viewPreview(views, flags, output)
    : await sheetPreview(views, flags, output);
  process.stdout.write(`${line}\n`);
}

async function viewPreview(views: XmlView[], flags: PreviewFlags, output: string): Promise<string> {
  const s = flags.view!;
  const view = views.find(
    (v) => v.time === s.t && v.illumination === s.i && v.channel === s.c && v.tile === s.s && v.angle === s.a,
  );
  if (!view)
    throw new CliError(`--view: no view t${s.t}-i${s.i}-c${s.c}-s${s.s}-a${s.a} holds data in this dataset`);
  const projection = await projectView(view.source, {
    axis: flags.axis,
    maxSize: flags.size,
    waitMs: WAIT_FOR_WRITER_MS,
  });
  const png = viewPreviewPng(projection);
  writeWhole(output, png.png, flags.overwrite ?? false);
  const shape = projection.levelShapeZyx.join('x');
  return `${flags.output}: ${png.width}x${png.height}, max along ${flags.axis} of timepoint ${view.time} setup ${view.setupId} (level ${projection.level}, ${shape} z,y,x), black..white = ${png.window.low}..${png.window.high}`;
}

async function sheetPreview(views: XmlView[], flags: PreviewFlags, output: string): Promise<string> {
  const time = flags.time ?? Math.min(...views.map((v) => v.time));
  const chosen = views.filter((v) => v.time === time);
  if (chosen.length === 0)
    throw new CliError(`--time: no view of timepoint ${time} holds data in this dataset`);
  const cells = [];
  for (const view of chosen) {
    const projection = await projectView(view.source, {
      axis: flags.axis,
      maxSize: Math.min(flags.size, SHEET_CELL_MAX),
      waitMs: WAIT_FOR_WRITER_MS,
    });
    cells.push({ ...view, projection });
  }
  let sheet;
  try {
    sheet = contactSheetPng(cells, { title: `t${time}` });
  } catch (error) {
    if (error instanceof RangeError) throw new CliError(error.message);
    throw error;
  }
  writeWhole(output, sheet.png, flags.overwrite ?? false);
  return `${flags.output}: ${sheet.width}x${sheet.height} contact sheet of ${chosen.length} view(s) of timepoint ${time} (${sheet.layout.rows} row(s) x ${sheet.layout.columns} tile column(s))`;
}

/**
 * The PNG appears whole or not at all, under a temporary name of its own (created new: nobody's
 * file is written over). Without `overwrite` it is linked into place, which fails if a file
 * appeared at `path` during the projection (up to a minute waiting for a writer) — kept, not
 * replaced; with it, renamed over.
 */
function writeWhole(path: string, bytes: Uint8Array, overwrite: boolean): void {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.part`);
  writeFileSync(temporary, bytes, { flag: 'wx' });
  try {
    if (overwrite) return renameSync(temporary, path);
    try {
      linkSync(temporary, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const appeared = code === 'EEXIST' || existsSync(path);
      if (appeared) throw new CliError(`${path} appeared meanwhile: kept (pass --overwrite to replace it)`);
      // A volume without hard links (some network shares): checked just above, then renamed.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')
        return renameSync(temporary, path);
      throw error;
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}
