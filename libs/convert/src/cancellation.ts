import type { SlabStack } from '@bdv-cluster/bdv';
import { ViewTaskError } from './task-errors.js';

/** What a task checks between slabs: an AbortSignal, or a flag another thread sets. */
export interface CancelCheck {
  readonly aborted: boolean;
}

export function cancelledError(): ViewTaskError {
  return new ViewTaskError('cancelled: the view was stopped between slabs and undone', 'cancelled');
}

export function throwIfCancelled(cancel: CancelCheck | undefined): void {
  if (cancel?.aborted) throw cancelledError();
}

/**
 * The same stack, with `stopIfAsked` called before every slab and after the last: what it throws
 * fails the view the way a read error does, at a safe point — the single file's journaled append
 * rolls back, a staged partition is deleted (libs/bdv). After the last too: a view of one slab (a
 * deep pyramid's slabs are whole chunks of its deepest level) stopped while it is written is
 * undone, not kept. The cluster's cancel (cancellable) and the CLI's Ctrl-C both stop views so.
 */
export function stoppableStack(stack: SlabStack, stopIfAsked: () => void): SlabStack {
  const source = stack.slabs;
  async function* slabs(): AsyncIterable<Uint16Array> {
    for await (const slab of source) {
      stopIfAsked();
      yield slab;
    }
    stopIfAsked();
  }
  return { shapeZyx: stack.shapeZyx, slabs: slabs() };
}

/** stoppableStack for a cancel: the task ends with a `cancelled` ViewTaskError. */
export function cancellable(stack: SlabStack, cancel: CancelCheck | undefined): SlabStack {
  return cancel ? stoppableStack(stack, () => throwIfCancelled(cancel)) : stack;
}

/**
 * A cancel flag threads share: one Int32 in a SharedArrayBuffer, set by the caller's thread and
 * read by the task's between slabs — no message has to reach a thread whose event loop is busy.
 */
export function sharedCancelFlag(): { buffer: SharedArrayBuffer; cancel(): void } {
  const buffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(buffer);
  return { buffer, cancel: () => Atomics.store(flag, 0, 1) };
}

/** The CancelCheck a task thread reads from a shared flag. */
export function cancelCheckOf(buffer: SharedArrayBuffer | undefined): CancelCheck | undefined {
  if (!buffer) return undefined;
  const flag = new Int32Array(buffer);
  return {
    get aborted() {
      return Atomics.load(flag, 0) === 1;
    },
  };
}
