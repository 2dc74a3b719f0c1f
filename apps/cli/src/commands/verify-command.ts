import { Command } from 'commander';

export function verifyCommand(): Command {
  return new Command('verify')
    .description(
      're-read every view of a BDV dataset and compare each level with the CRC-32 recorded when it was written',
    )
    .argument(
      '<file.xml>',
      "the dataset's XML (or its .h5, or a partition: the XML beside it is read); its .h5 (or master and partitions) and <name>.checksums.json beside it",
    )
    .option('--json', 'print the report as JSON')
    .option(
      '-j, --jobs <n>',
      'partition files read back at once on worker threads (default: one per core; a single-layout file is read by one)',
    )
    .addHelpText(
      'after',
      '\nExit code 0 when every view reads back as written, 1 when any differs or the checksum file is\nmissing or malformed. Read-only: works on a copy anywhere, if the files moved together.\n',
    )
    .action(async (xml: string, flags: { json?: boolean; jobs?: string }) => {
      const { verifyXml } = await import('./verify-action.js');
      await verifyXml(xml, flags);
    });
}
