import type { FieldProblem } from '@bdv-cluster/contract';

/** `[1][2]` (a level's factors or block, z,y,x) as a user reads it: ` (level 1, x)`. */
function levelAxis(at: string | undefined): string {
  const [level, axis] = [...(at ?? '').matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  if (level === undefined) return '';
  return ` (level ${level}${axis === undefined ? '' : `, ${'zyx'[axis] ?? axis}`})`;
}

/** Where a quick-form manifest's dataset fields came from: the option a user typed. */
const OPTION_OF: [RegExp, string | ((match: string, ...groups: string[]) => string)][] = [
  [/^dataset\.name$/, '--name (by default the output file name, which then may only use A-Z a-z 0-9 . _ -)'],
  [/^dataset\.timepoints$/, '--timepoints'],
  [/^dataset\.setup\.(illuminations|channels|tiles|angles)$/, '--$1'],
  [/^dataset\.setup$/, '--illuminations/--channels/--tiles/--angles'],
  [/^dataset\.attributeLabels(\..*)?$/, '--labels'],
  [/^dataset\.compressionLevel$/, '--compression-level'],
  [/^dataset\.compression$/, '--compression'],
  [/^dataset\.subsamplingZyx(\[.*)?$/, (_, at?: string) => `--subsampling${levelAxis(at)}`],
  [/^dataset\.blockSizeZyx(\[.*)?$/, (_, at?: string) => `--block${levelAxis(at)}`],
  [/^dataset\.layout$/, '--layout'],
  [/^dataset\.microscope(\..*)?$/, '--microscope/--microscope-version/--user'],
];

/** The flag behind a view's field, where every view got it from one (viewDefaults, sourceOptions). */
const VIEW_OPTION_OF: [RegExp, string][] = [
  [/^voxelSizeXyz/, '--voxel-size'],
  [/^voxelUnits$/, '--unit'],
  [/^calibrationXyz/, '--calibration'],
  [/^exposure(Time|Units)$/, '--exposure-time/--exposure-units'],
  [/^cameraName$/, '--camera'],
  [/^source\.shapeZyx/, '--shape'],
  [/^source\.headerBytes$/, '--header-bytes'],
];

/**
 * A quick-form manifest's problems in the user's terms: there is no manifest and `views[4]` means
 * nothing to whoever typed `bdv convert folder -p …`. A view is named by its file; a dataset field
 * by its option; the same problem of a flag shared by every view is said once.
 */
export function quickFormProblems(problems: readonly FieldProblem[], files: readonly string[]): string {
  const fileOf = (index: string) => files[Number(index)] ?? `views[${index}]`;
  const lines = new Set<string>();
  for (const { field, message } of problems) {
    const text = message.replace(/views\[(\d+)\]/g, (_, i: string) => fileOf(i));
    const view = /^views\[(\d+)\]\.?(.*)$/.exec(field);
    if (view) {
      const option = VIEW_OPTION_OF.find(([re]) => re.test(view[2]!))?.[1];
      lines.add(
        option ? `${option}: ${text}` : `${fileOf(view[1]!)}${view[2] ? ` (${view[2]})` : ''}: ${text}`,
      );
      continue;
    }
    lines.add(`${optionOf(field)}: ${text}`);
  }
  return [...lines].join('; ');
}

/** A dataset field as the option it came from, or the field itself where none did. */
function optionOf(field: string): string {
  const option = OPTION_OF.find(([re]) => re.test(field));
  if (!option) return field;
  const [pattern, name] = option;
  return typeof name === 'string' ? field.replace(pattern, name) : field.replace(pattern, name);
}
