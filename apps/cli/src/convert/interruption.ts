import type { SlabStack } from '@bdv-cluster/bdv';

/**
 * A conversion stopped by Ctrl-C (SIGINT) or SIGTERM at a safe point: the view being written was
 * undone, every view committed before it is recorded in the checksum file, so `--resume` goes on.
 */
export class InterruptedError extends Error {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super('interrupted; run the same command with --resume to continue');
    this.name = 'InterruptedError';
  }

  /** The shell's convention: 128 + the signal's number (130 for Ctrl-C). */
  get exitCode(): number {
    return this.signal === 'SIGINT' ? 130 : 143;
  }
}

/**
 * Turns the first SIGINT/SIGTERM into an abort of `signal` (the conversion stops between slabs
 * and undoes its current view); a second one exits at once, which is still safe: an unfinished
 * append is rolled back from its journal when the output is opened again.
 */
export function watchInterrupts(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => {
    const interrupted = new InterruptedError(name);
    if (controller.signal.aborted) {
      process.stderr.write(`\nbdv: ${interrupted.message}\n`);
      process.exit(interrupted.exitCode);
    }
    process.stderr.write(
      '\nbdv: stopping after undoing the view being written (press Ctrl-C again to stop now)\n',
    );
    controller.abort(interrupted);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** Throws the interruption if one came (checked between steps that must not be cut). */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * The same stack, checked for an interruption before every slab: the writer then fails the view
 * the way any read error does, and undoes it (journal rollback, or the staged partition deleted).
 */
export function interruptible(stack: SlabStack, signal: AbortSignal | undefined): SlabStack {
  if (!signal) return stack;
  const source = stack.slabs;
  async function* slabs(): AsyncIterable<Uint16Array> {
    for await (const slab of source) {
      throwIfInterrupted(signal);
      yield slab;
    }
  }
  return { shapeZyx: stack.shapeZyx, slabs: slabs() };
}
