import { Command } from 'commander';

export function infoCommand(): Command {
  return new Command('info')
    .description('show what a BDV .h5 holds: setups, pyramid levels, views, chunks, compression')
    .argument('<file.h5>', 'a BDV HDF5 file')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const { info } = await import('./info-action.js');
      await info(file, flags);
    });
}
