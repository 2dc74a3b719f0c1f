/** The signals that stop a conversion at a safe point, and their numbers (exit code 128 + n). */
const STOPPING = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof STOPPING;

/**
 * A conversion stopped by Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal or ssh session went
 * away) at a safe point: the view being written was
 * undone, every view committed before it is recorded in the checksum file, so `--resume` goes on.
 */
export class InterruptedError extends Error {
  constructor(
    readonly signal: StopSignal,
    kept?: string,
  ) {
    super(`interrupted${kept ? `: ${kept}` : ''}; run the same command with --resume to continue`);
    this.name = 'InterruptedError';
  }

  /** The same stop, saying what the output keeps once the current view was undone. */
  keeping(views: number, output: string): InterruptedError {
    return new InterruptedError(
      this.signal,
      views > 0 ? `${output} keeps the ${views} view(s) finished before it` : 'no view was finished',
    );
  }

  /** The shell's convention: 128 + the signal's number (130 for Ctrl-C). */
  get exitCode(): number {
    return 128 + STOPPING[this.signal];
  }
}

/**
 * Turns the first SIGINT/SIGTERM/SIGHUP into an abort of `signal` (the conversion stops between
 * slabs and undoes its current view); a second one exits at once, which is still safe: an
 * unfinished append is rolled back from its journal when the output is opened again.
 */
export function watchInterrupts(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: StopSignal) => {
    const interrupted = new InterruptedError(name);
    // A hung-up terminal fails writes (EIO): the stop must not end on an unheard error event.
    if (name === 'SIGHUP' && process.stderr.listenerCount('error') === 0)
      process.stderr.on('error', () => undefined);
    if (controller.signal.aborted) {
      say(`\nbdv: ${interrupted.message}\n`);
      process.exit(interrupted.exitCode);
    }
    say(
      `\nbdv: ${name === 'SIGINT' ? '' : `${name}: `}stopping after undoing the view being written (${name === 'SIGINT' ? 'press Ctrl-C again' : `${name} again`} to stop now)\n`,
    );
    controller.abort(interrupted);
  };
  const handlers = (Object.keys(STOPPING) as StopSignal[]).map((name) => {
    const handler = () => onSignal(name);
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** To stderr, unless it is gone (a closed terminal after SIGHUP): the stop goes on regardless. */
function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // nothing to tell
  }
}

/** Throws the interruption if one came (checked between steps that must not be cut). */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
