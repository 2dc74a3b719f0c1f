import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Manifest } from '@bdv-cluster/contract';
import { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { runConversion } from '../convert/run-conversion.js';
import { makeSyntheticAcquisition } from '../demo/synthetic-acquisition.js';
import { progressOption, type ProgressMode } from '../progress/progress-mode.js';
import { progressFor } from '../progress/progress-reporter.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'make a small synthetic acquisition (2 timepoints x 2 channels x 2 tiles) and convert it in-process',
    )
    .option('-d, --dir <folder>', 'where the raw stacks, manifest and BDV files go', 'bdv-demo')
    .option('--overwrite', 'replace an earlier demo in that folder')
    .addOption(progressOption())
    .action(async (flags: { dir: string; overwrite?: boolean; progress: ProgressMode }) => {
      const dir = resolve(flags.dir);
      if (existsSync(dir)) {
        if (!flags.overwrite)
          throw new CliError(`${dir} already exists (pass --overwrite to replace the demo)`);
        rmSync(dir, { recursive: true, force: true });
      }
      process.stdout.write(`making a synthetic acquisition in ${dir}/raw ...\n`);
      const acquisition = await makeSyntheticAcquisition(dir);
      const result = await runConversion(
        {
          manifest: Manifest.parse(acquisition.manifest),
          output: join(dir, 'demo.h5'),
          overwrite: false,
          baseDir: dir,
        },
        progressFor(flags.progress),
      );
      process.stdout.write(
        [
          `converted ${result.views} views (${(result.bytes / 1e6).toFixed(1)} MB) in ${result.seconds.toFixed(2)} s`,
          `  HDF5:     ${result.h5}`,
          `  XML:      ${result.xml}`,
          `  manifest: ${acquisition.manifestPath}`,
          'open the XML in Fiji: Plugins > BigDataViewer > Open XML/HDF5 (or BigStitcher)',
          `inspect with: npx bdv info ${result.h5}`,
          `check every view against its checksums with: npx bdv verify ${result.xml}`,
          '',
        ].join('\n'),
      );
    });
}
