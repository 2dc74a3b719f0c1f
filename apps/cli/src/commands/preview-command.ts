import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  contactSheetPng,
  DEFAULT_PREVIEW_SIZE,
  MAX_PREVIEW_SIZE,
  PROJECTION_AXES,
  projectView,
  viewPreviewPng,
  viewsOfXml,
  type ProjectionAxis,
  type XmlView,
} from '@bdv-cluster/bdv';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from '../cli-error.js';

interface PreviewFlags {
  output: string;
  view?: ViewSelector;
  time?: number;
  axis: ProjectionAxis;
  size: number;
  overwrite?: boolean;
}

/** `t0-c1-s2`: letters t (time), i, c, s (tile), a with their indices; absent ones are 0. */
type ViewSelector = Record<'t' | 'i' | 'c' | 's' | 'a', number>;

/** How long to wait for a writer appending to the same .h5 (`bdv convert --resume`, a batch). */
const WAIT_FOR_WRITER_MS = 60_000;

export function previewCommand(): Command {
  return new Command('preview')
    .description(
      'maximum-intensity projection of one view, or a contact sheet of a timepoint, as an 8-bit PNG (contrast from the 0.1 / 99.9 % percentiles)',
    )
    .argument('<file.xml>', "the dataset's XML; its .h5 (or partitions) beside it")
    .requiredOption('-o, --output <file.png>', 'where the PNG goes')
    .option(
      '--view <key>',
      'one view, e.g. t0-c1-s2 (t time, i illumination, c channel, s tile, a angle; absent = 0)',
      parseSelector,
    )
    .option('--time <t>', 'timepoint of the contact sheet (the first one)', parseIndex)
    .addOption(new Option('--axis <axis>', 'projection axis').choices(PROJECTION_AXES).default('z'))
    .option(
      '--size <px>',
      `longest side of a view's projection (${DEFAULT_PREVIEW_SIZE}; up to ${MAX_PREVIEW_SIZE})`,
      parseIndex,
      DEFAULT_PREVIEW_SIZE,
    )
    .option('--overwrite', 'replace an existing PNG')
    .addHelpText(
      'after',
      '\nReads the pyramid level whose projection fits --size (never a finer one), in z-slabs. Without\n--view: every view of the timepoint, rows by channel (and illumination, angle), columns by tile.\n',
    )
    .action(async (xml: string, flags: PreviewFlags) => {
      if (/\.h5$/i.test(xml))
        throw new CliError(`${xml}: give the dataset's .xml (the .h5 is found through it)`);
      const output = resolve(flags.output);
      if (existsSync(output) && !flags.overwrite)
        throw new CliError(`${flags.output} exists (pass --overwrite to replace it)`);
      const views = viewsOfXml(resolve(xml));
      if (views.length === 0) throw new CliError(`${xml}: no view holds data`);
      const line = flags.view
        ? await viewPreview(views, flags, output)
        : await sheetPreview(views, flags, output);
      process.stdout.write(`${line}\n`);
    });
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
  writeWhole(output, png.png);
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
      maxSize: Math.min(flags.size, 256),
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
  writeWhole(output, sheet.png);
  return `${flags.output}: ${sheet.width}x${sheet.height} contact sheet of ${chosen.length} view(s) of timepoint ${time} (${sheet.layout.rows} row(s) x ${sheet.layout.columns} tile column(s))`;
}

/** The PNG appears whole or not at all. */
function writeWhole(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.part`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

function parseIndex(value: string): number {
  if (!/^\d{1,7}$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

function parseSelector(value: string): ViewSelector {
  const selector: ViewSelector = { t: 0, i: 0, c: 0, s: 0, a: 0 };
  const seen = new Set<string>();
  for (const part of value.split('-')) {
    const m = /^([ticsa])(\d{1,7})$/.exec(part);
    if (!m || seen.has(m[1]!))
      throw new InvalidArgumentError(
        `"${value}" is not a view like t0-c1-s2 (t, i, c, s, a each once, with an index)`,
      );
    seen.add(m[1]!);
    selector[m[1] as keyof ViewSelector] = Number(m[2]);
  }
  return selector;
}
