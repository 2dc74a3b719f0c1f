import { COMPRESSION_NAMES, LAYOUTS } from '@bdv-cluster/bdv/vocabulary';
import { BYTE_ORDERS, SAMPLE_TYPES, STACK_FORMATS } from '@bdv-cluster/stacks/vocabulary';
import { Command, Option } from 'commander';
import type { ConvertFlags } from '../convert/quick-flags.js';
import { progressOption } from '../progress/progress-mode.js';

export function convertCommand(): Command {
  const command = new Command('convert')
    .description('convert local stacks (.npy, raw, TIFF) into a BDV .h5 + .xml, in this process')
    .argument('[inputs...]', 'stack files or folders (quick form); omit with --manifest')
    .option('-o, --output <file.h5>', 'the .h5 to write; the .xml goes beside it')
    .option('-m, --manifest <file.json>', '{dataset, views} as the HTTP API takes them')
    .option(
      '-p, --pattern <pattern>',
      "file names with view indices, e.g. 't{time}_c{channel}_s{tile}.npy'; {tile-1} where names count from 1; 't{time}/c{channel}.npy' for sub-folders",
    )
    .option('--name <name>', 'dataset name (default: the output file name)');
  addFormatOptions(command);
  addViewOptions(command);
  addSourceOptions(command);
  return command
    .addOption(new Option('--overwrite', 'replace an existing output file').conflicts('resume'))
    .option('--resume', 'continue an interrupted conversion into the same output (see below)')
    .option(
      '-j, --jobs <n>',
      'views written at once on worker threads (partitioned layout; default: one per core)',
    )
    .addOption(progressOption())
    .option('--json', 'print the result as JSON')
    .addHelpText('after', RESUME_HELP)
    .action(async (inputs: string[], flags: ConvertFlags) => {
      // Loaded only when a conversion runs: `bdv --help` stays fast.
      const { convert } = await import('../convert/convert-action.js');
      await convert(inputs, flags);
    });
}

const RESUME_HELP = `
Interruptions:
  Views are committed whole and recorded (with a CRC-32 of each level) in <name>.checksums.json
  beside the output: a partition as soon as it is written, views in one .h5 in groups of up to
  256 MiB or 2 s of writing (BDV_COMMIT_GROUP_MIB=<MiB> sets the size, 0 commits every view on its
  own). Ctrl-C undoes the view being written, commits the views before it and stops (exit 130); a
  crash or kill -9 leaves what was not committed yet half-written, which the next run undoes.
  --resume then continues into the same output: the views the earlier run recorded that still read
  back as written are kept, the others are written again, then the XML and checksums. Give the same
  command (manifest or inputs and options). Refused, with nothing changed, when the earlier output
  has another layout, setup count, subsampling, blocks or compression, or holds a view this run does
  not list or describes differently (shape, voxel size, affine, ...); a different gzip level applies
  to the views still to write. Kept views are not read from their inputs again: if an input changed,
  use --overwrite. Without an earlier output, --resume simply converts. Check a result with
  'bdv verify <name>.xml'.
`;

/** How the dataset is stored (the quick form; a manifest says it in its dataset). */
function addFormatOptions(c: Command): void {
  c.addOption(new Option('--compression <codec>', 'HDF5 compression').choices(COMPRESSION_NAMES))
    .option('--compression-level <n>', 'gzip level 0-9 (default 4)')
    .option(
      '--subsampling <levels>',
      "pyramid factors z,y,x per level, e.g. 1,1,1:2,4,4 (default 'auto': BigDataViewer's proposal for the first view)",
    )
    .option(
      '--block <levels>',
      "chunk shape z,y,x per level (one serves all), e.g. 4,256,256, or 'auto' (default: auto with auto factors, else 4,256,256)",
    )
    .addOption(new Option('--layout <layout>', 'one file, or one file per view + master').choices(LAYOUTS))
    .option('--illuminations <n>', 'number of illuminations (default: inferred)')
    .option('--channels <n>', 'number of channels (default: inferred)')
    .option('--tiles <n>', 'number of tiles (default: inferred)')
    .option('--angles <n>', 'number of angles (default: inferred)')
    .option('--timepoints <n>', 'number of timepoints (default: inferred)')
    .option(
      '--labels <attr=a,b,...>',
      'attribute labels, e.g. channel=488,561 (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('--microscope <name>', 'microscope name for the XML')
    .option('--microscope-version <v>', 'microscope version for the XML')
    .option('--user <name>', 'user name for the XML');
}

/** Metadata every view of the quick form shares. */
function addViewOptions(c: Command): void {
  c.option('--voxel-size <x,y,z>', 'voxel size (metadata, as npy2bdv)')
    .option('--unit <unit>', 'voxel size unit, e.g. um')
    .option('--calibration <x,y,z>', 'calibration scale put into the registration')
    .option('--exposure-time <t>', 'camera exposure time')
    .option('--exposure-units <u>', 'exposure time unit')
    .option('--camera <name>', 'camera name');
}

/** How the quick form's input files are laid out. */
function addSourceOptions(c: Command): void {
  c.addOption(
    new Option('--format <format>', 'input format (default: from the extension)').choices(STACK_FORMATS),
  )
    .option('--shape <z,y,x>', 'stack shape (required for raw input)')
    .addOption(
      new Option('--dtype <type>', 'input samples; uint8 is widened to uint16').choices(SAMPLE_TYPES),
    )
    .addOption(new Option('--byte-order <order>', 'raw input byte order').choices(BYTE_ORDERS))
    .option('--header-bytes <n>', 'raw input: bytes to skip before the samples');
}
