import type { FieldProblem } from '@bdv-cluster/contract';

/** `[1][2]` (a level's factors or block, z,y,x) as a user reads it: ` (level 1, x)`. */
function levelAxis(at: string | undefined): string {
  const [level, axis] = [...(at ?? '').matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  if (level === undefined) return '';
  return ` (level ${level}${axis === undefined ? '' : `, ${'zyx'[axis] ?? axis}`})`;
}

/** Where a quick-form manifest's dataset fields came from: the option a user typed. */
const OPTION_OF: [RegExp, string | ((match: string, ...groups: string[]) => string)][] = [
  [/^dataset\.name$/, '--name'],
  [/^dataset\.timepoints$/, '--timepoints'],
  [/^dataset\.setup\.(illuminations|channels|tiles|angles)$/, '--$1'],
  [/^dataset\.setup$/, '--illuminations/--channels/--tiles/--angles'],
  [/^dataset\.attributeLabels\.(\w+).*$/, '--labels $1'],
  [/^dataset\.attributeLabels$/, '--labels'],
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

/** Problems of single files said in full; past these, counted (a folder of 500 duplicates). */
const FILE_PROBLEMS_SHOWN = 3;

/**
 * A quick-form manifest's problems in the user's terms: there is no manifest and `views[4]` means
 * nothing to whoever typed `bdv convert folder -p …`. A view is named by its file; a dataset field
 * by its option; the same problem of a flag shared by every view is said once; the problems of
 * single files, often one mistake seen in every file, are said for the first few and counted.
 * `nameFromOutput`: the dataset name was not given but taken from the output file's name.
 */
export function quickFormProblems(
  problems: readonly FieldProblem[],
  files: readonly string[],
  nameFromOutput?: string,
): string {
  const fileOf = (index: string) => files[Number(index)] ?? `views[${index}]`;
  const lines = new Set<string>();
  const fileLines = new Set<string>();
  for (const { field, message } of problems) {
    const text = message.replace(/views\[(\d+)\]/g, (_, i: string) => fileOf(i));
    const view = /^views\[(\d+)\]\.?(.*)$/.exec(field);
    if (view) {
      const option = VIEW_OPTION_OF.find(([re]) => re.test(view[2]!))?.[1];
      if (option) lines.add(`${option}: ${text}`);
      else fileLines.add(`${fileOf(view[1]!)}${view[2] ? ` (${view[2]})` : ''}: ${text}`);
      continue;
    }
    lines.add(
      field === 'dataset.name' && nameFromOutput !== undefined
        ? nameProblem(nameFromOutput, text)
        : `${optionOf(field)}: ${text}`,
    );
  }
  const shown = [...fileLines].slice(0, FILE_PROBLEMS_SHOWN);
  const more = fileLines.size - shown.length;
  return [...lines, ...shown, ...(more > 0 ? [`and ${more} more of other files`] : [])].join('; ');
}

/**
 * The dataset name taken from the output file's name (no --name): the rule is the dataset's (the
 * XML and the cluster's URLs carry it), so the way out is a name of its own, not a renamed file.
 */
function nameProblem(name: string, text: string): string {
  return `the dataset name is by default the output file's name ('${name}'), and a dataset name ${text}: pass --name <a simple name> (the file may keep its name)`;
}

/** A dataset field as the option it came from, or the field itself where none did. */
function optionOf(field: string): string {
  const option = OPTION_OF.find(([re]) => re.test(field));
  if (!option) return field;
  const [pattern, name] = option;
  return typeof name === 'string' ? field.replace(pattern, name) : field.replace(pattern, name);
}
