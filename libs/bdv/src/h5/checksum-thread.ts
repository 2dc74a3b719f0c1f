import { crc32 } from './native-deflate.js';
import type { Worker } from 'node:worker_threads';
import { BdvError } from '../errors.js';
import { crc32Hex } from '../model/checksums.js';
import { threadEntryUrl } from '../thread-entry.js';
import { startHelperThread } from './helper-thread.js';

const THREAD_ENTRY = threadEntryUrl(import.meta.url, 'checksum-thread-entry.js');

/** Slots of the state a running checksum shares with the thread (Int32Array indices). */
export const CHECKSUM_REQUESTED = 0;
export const CHECKSUM_DONE = 1;
export const CHECKSUM_VALUE = 2;
export const CHECKSUM_FAILED = 3;
const SLOTS = 4;

/** One piece of work: CRC-32 of heap bytes [at, at + length), folded into the state's value. */
export interface ChecksumRequest {
  heap: SharedArrayBuffer;
  state: SharedArrayBuffer;
  at: number;
  length: number;
}

/**
 * How long a writer waits for the thread to finish a slab before it gives the view up. A 32 MiB
 * slab takes ~10 ms; only a thread that died (it cannot say so: the writer is not turning its
 * event loop while it waits) takes this long.
 */
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * A thread that computes the CRC-32 of slabs in a shared wasm heap (docs/adr/019): the level-0
 * checksum (~4 GB/s in zlib, ~0.19 s of a 512 MiB conversion on the writing thread) runs on the
 * other core while HDF5 gathers and writes the same slab. It marks itself ready in shared memory
 * once it runs; until then, or if it never starts, checksums are computed on the writing thread.
 */
export class ChecksumThread {
  private worker: Worker | undefined;
  private failed = false;
  private sent = 0;
  private readonly readyFlag = new Int32Array(new SharedArrayBuffer(4));

  /** Starts the thread now (its start-up takes the other core a few tens of ms). */
  warm(): void {
    if (this.failed || this.worker) return;
    // A thread that cannot start or dies: checksums stay on the writing thread.
    this.worker = startHelperThread(THREAD_ENTRY, { ready: this.readyFlag.buffer }, (why) => this.lost(why));
  }

  /** From now on every checksum of this thread is computed where it is asked for; said once. */
  private lost(why: unknown): void {
    if (!this.failed) {
      process.emitWarning(
        `level checksums run on the writing thread: the checksum thread is gone (${why instanceof Error ? why.message : String(why)})`,
        { code: 'BDV_CHECKSUM_THREAD' },
      );
    }
    this.failed = true;
    this.worker = undefined;
    Atomics.store(this.readyFlag, 0, 0);
  }

  /** True once the thread runs and can take requests. */
  get ready(): boolean {
    return this.worker !== undefined && Atomics.load(this.readyFlag, 0) === 1;
  }

  post(request: ChecksumRequest): void {
    this.worker!.postMessage(request);
    this.sent++;
  }

  /** Slabs handed to the thread so far (tests look at it). */
  get posted(): number {
    return this.sent;
  }
}

let shared: ChecksumThread | undefined;

/** This thread's checksum thread (its worker starts when warmed). */
export function checksumThread(): ChecksumThread {
  shared ??= new ChecksumThread();
  return shared;
}

/**
 * A running CRC-32 over a level's slabs, fed in z order, whose slabs in a shared heap are
 * checksummed by the checksum thread (see ChecksumThread) and all others here. The value lives
 * in shared memory, so both kinds fold into one sequence. add() returns at once for a slab sent
 * to the thread: call settle() before the slab's memory is written again.
 */
export class HeapChecksum {
  private readonly state = new Int32Array(new SharedArrayBuffer(SLOTS * 4));

  constructor(private readonly thread: ChecksumThread | undefined) {}

  add(data: Uint16Array | Int16Array): void {
    if (this.thread?.ready && data.buffer instanceof SharedArrayBuffer) {
      Atomics.add(this.state, CHECKSUM_REQUESTED, 1);
      this.thread.post({
        heap: data.buffer,
        state: this.state.buffer as SharedArrayBuffer,
        at: data.byteOffset,
        length: data.byteLength,
      });
      return;
    }
    this.settle();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    Atomics.store(this.state, CHECKSUM_VALUE, crc32(bytes, this.value) | 0);
  }

  /** Waits until the thread has folded in every slab sent to it; throws if it cannot have. */
  settle(): void {
    // A monotonic clock: a wall-clock step must not fail a healthy wait.
    const deadline = performance.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(this.state, CHECKSUM_DONE);
      if (done === Atomics.load(this.state, CHECKSUM_REQUESTED)) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new BdvError('HDF5', `the checksum thread did not answer within ${SETTLE_TIMEOUT_MS / 1000} s`);
      }
      Atomics.wait(this.state, CHECKSUM_DONE, done, left);
    }
    if (Atomics.load(this.state, CHECKSUM_FAILED) !== 0) {
      throw new BdvError('HDF5', 'the checksum thread could not read a slab of the heap');
    }
  }

  /** settle() for a view that already failed: waits the same, reports nothing. */
  settleQuietly(): void {
    try {
      this.settle();
    } catch {
      // the caller's own error is the one that counts
    }
  }

  get hex(): string {
    this.settle();
    return crc32Hex(this.value);
  }

  private get value(): number {
    return Atomics.load(this.state, CHECKSUM_VALUE) >>> 0;
  }
}
