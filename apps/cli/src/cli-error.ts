/** A failure the user can fix from its message alone; printed as one line, exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Errors of the libraries whose message says all a user needs. */
const KNOWN_ERRORS = new Set(['BdvError', 'StackError', 'ViewTaskError', 'StorageError']);

/**
 * True for errors printed as their message alone; anything else also says how to see its stack.
 * By name: the libraries that throw these are loaded only by the command that runs.
 */
export function speaksForItself(error: unknown): error is Error {
  return error instanceof CliError || (error instanceof Error && KNOWN_ERRORS.has(error.name));
}
