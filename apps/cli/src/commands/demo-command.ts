import { Command } from 'commander';
import type { DemoFlags } from '../demo/demo-action.js';
import { progressOption } from '../progress/progress-mode.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'make a small synthetic acquisition (2 timepoints x 2 channels x 2 tiles) and convert it in-process',
    )
    .option('-d, --dir <folder>', 'where the raw stacks, manifest and BDV files go', 'bdv-demo')
    .option('--overwrite', 'replace an earlier demo in that folder')
    .addOption(progressOption())
    .action(async (flags: DemoFlags) => {
      const { demo } = await import('../demo/demo-action.js');
      await demo(flags);
    });
}
