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

/** A system error's code as a user reads it (the code itself where none is known). */
export function systemReason(error: NodeJS.ErrnoException): string {
  return SYSTEM_REASONS[error.code ?? ''] ?? error.code ?? error.message;
}

const SYSTEM_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'it is on a read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a parent is not a folder',
  EISDIR: 'is a directory',
  ELOOP: 'too many symbolic links (a loop?)',
  ENAMETOOLONG: 'the name is too long',
};

/**
 * A file-system error no check caught first (a folder removed meanwhile, a disk filling up), as
 * one line naming the path: `<path>: permission denied (mkdir)`. Undefined for anything else.
 */
export function systemErrorLine(error: unknown): string | undefined {
  const e = error as NodeJS.ErrnoException;
  if (!(error instanceof Error) || typeof e.code !== 'string' || typeof e.path !== 'string') return undefined;
  if (SYSTEM_REASONS[e.code] === undefined) return undefined;
  return `${e.path}: ${systemReason(e)}${e.syscall ? ` (${e.syscall})` : ''}`;
}
