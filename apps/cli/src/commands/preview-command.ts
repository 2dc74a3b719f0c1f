import { DEFAULT_PREVIEW_SIZE, MAX_PREVIEW_SIZE, PROJECTION_AXES } from '@bdv-cluster/bdv/vocabulary';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { PreviewFlags, ViewSelector } from './preview-action.js';

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
      const { preview } = await import('./preview-action.js');
      await preview(xml, flags);
    });
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
