import { Command, CommanderError } from 'commander';
import { speaksForItself, systemErrorLine } from './cli-error.js';
import { cancelCommand } from './commands/cancel-command.js';
import { finalizeCommand } from './commands/finalize-command.js';
import { retryCommand } from './commands/retry-command.js';
import { convertCommand } from './commands/convert-command.js';
import { demoCommand } from './commands/demo-command.js';
import { infoCommand } from './commands/info-command.js';
import { batchCommand, statusCommand, submitCommand } from './commands/remote-commands.js';
import { previewCommand } from './commands/preview-command.js';
import { verifyCommand } from './commands/verify-command.js';
import { InterruptedError } from './convert/interruption.js';

const program = new Command('bdv')
  .description('Light-sheet stacks to Fiji BigDataViewer / BigStitcher HDF5 + XML (npy2bdv-compatible)')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
program.addCommand(convertCommand());
program.addCommand(demoCommand());
program.addCommand(infoCommand());
program.addCommand(verifyCommand());
program.addCommand(previewCommand());
program.addCommand(submitCommand());
program.addCommand(batchCommand());
program.addCommand(statusCommand());
program.addCommand(cancelCommand());
program.addCommand(retryCommand());
program.addCommand(finalizeCommand());
/** commander's own errors ("error: unknown option …") read as every other error of bdv. */
const output = { outputError: (text: string, write: (text: string) => void) => write(`bdv: ${text}`) };
program.configureOutput(output);
// Subcommands added whole do not inherit the program's settings.
for (const command of program.commands) command.exitOverride().configureOutput(output);

/** Errors the user can act on print as one line; anything else also says how to see the stack. */
function fail(error: unknown): never {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof InterruptedError) {
    process.stderr.write(`bdv: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  // A file-system error is the user's to fix too: its path and reason, without the stack hint.
  const systemLine = systemErrorLine(error);
  const known = speaksForItself(error) || systemLine !== undefined;
  const message = systemLine ?? (error instanceof Error ? error.message : String(error));
  process.stderr.write(`bdv: error: ${message}\n`);
  if (process.env.BDV_DEBUG && !speaksForItself(error)) process.stderr.write(`${(error as Error).stack}\n`);
  else if (!known) process.stderr.write('bdv: (set BDV_DEBUG=1 for the stack trace)\n');
  process.exit(1);
}

/**
 * A reader that stops early (`bdv verify … | head`) closes our output: what it did not read is
 * dropped, and the command goes on to its own end and exit code — a conversion is not given up,
 * nor a verification's verdict changed, because nobody reads its report. Without this Node threw
 * EPIPE as an unhandled error with its stack after the work was done.
 */
function ignoreClosedReader(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
ignoreClosedReader(process.stdout);
ignoreClosedReader(process.stderr);

program.parseAsync(process.argv).catch(fail);
