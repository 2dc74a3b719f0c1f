import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Manifest } from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';
import type { DemoFlags } from '../commands/demo-command.js';
import { runConversion } from '../convert/run-conversion.js';
import { progressFor } from '../progress/progress-reporter.js';
import { makeSyntheticAcquisition } from './synthetic-acquisition.js';

/** `bdv demo`: a synthetic acquisition converted in this process, and where everything went. */
export async function demo(flags: DemoFlags): Promise<void> {
  const dir = resolve(flags.dir);
  if (existsSync(dir)) {
    if (!flags.overwrite) throw new CliError(`${dir} already exists (pass --overwrite to replace the demo)`);
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
}
