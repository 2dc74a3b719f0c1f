import { DEFAULT_PREVIEW_SIZE, MAX_PREVIEW_SIZE, PROJECTION_AXES } from '@bdv-cluster/bdv/vocabulary';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { PreviewFlags, ViewSelector } from './preview-action.js';
import { MIN_PREVIEW_SIZE, SHEET_CELL_MAX } from './preview-sizes.js';

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
      `longest side of a view's projection, ${MIN_PREVIEW_SIZE}-${MAX_PREVIEW_SIZE} (a contact sheet's views: at most ${SHEET_CELL_MAX})`,
      parseSize,
      DEFAULT_PREVIEW_SIZE,
    )
    .option('--overwrite', 'replace an existing PNG')
    .addHelpText(
      'after',
      '\nReads the pyramid level whose projection fits --size (never a finer one), in z-slabs. Without\n--view: every view of the timepoint, rows by channel (and illumination, angle), columns by tile.\n',
    )
    .action(async (xml: string, flags: PreviewFlags) => {
      const { preview } = await import('./preview-action.js');
      await preview(xml, flags);
    });
}

/** Refused here, in the option's name, rather than by the previewer in its own ("size"). */
function parseSize(value: string): number {
  const size = parseIndex(value);
  if (size < MIN_PREVIEW_SIZE || size > MAX_PREVIEW_SIZE)
    throw new InvalidArgumentError(`must be ${MIN_PREVIEW_SIZE}-${MAX_PREVIEW_SIZE} pixels`);
  return size;
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
