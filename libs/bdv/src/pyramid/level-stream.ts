import type { Zyx } from '../model/pyramid-spec.js';
import { levelShape } from '../model/pyramid-spec.js';
import { addPlaneBlockSums, takeBlockMeans } from './block-mean.js';
import { jsMemory, type ScratchMemory, type Scratch } from './scratch-memory.js';

/** Receives a finished z-slab of one level: `depth` planes starting at output plane `z0`. */
export type SlabSink = (z0: number, slab: Uint16Array, depth: number) => void;

/** Input planes: a view, or a getter that re-makes it (a view of memory that a sink call may move). */
export type SlabInput = Uint16Array | (() => Uint16Array);

/**
 * Turns the full-resolution stack, arriving as consecutive z-slabs, into one pyramid level and
 * hands it on in slabs of `outDepth` planes (a multiple of the level's chunk depth, so every HDF5
 * chunk is written whole, once). Holds one accumulator plane (zeroed when taken; takeBlockMeans
 * clears it after every output plane) and one output slab, taken from `memory` when first needed
 * (level 0 fed aligned slabs needs neither): memory does not depend on stack depth. Views of the input and of its own buffers are re-made after every sink call,
 * since a sink that writes to HDF5 may replace the wasm heap's ArrayBuffer (see ScratchMemory).
 */
export class LevelStream {
  readonly outShape: Zyx;
  private readonly planeIn: number;
  private readonly planeOut: number;
  private readonly identity: boolean;
  private readonly divisor: number;
  private accArea: Scratch<Float64Array> | undefined;
  private outArea: Scratch<Uint16Array> | undefined;
  private zIn = 0;
  private slabZ0 = 0;
  private slabFill = 0;

  constructor(
    private readonly inShape: Zyx,
    private readonly factors: Zyx,
    private readonly outDepth: number,
    private readonly sink: SlabSink,
    private readonly memory: ScratchMemory = jsMemory,
  ) {
    this.outShape = levelShape(inShape, factors);
    this.planeIn = inShape[1] * inShape[2];
    this.planeOut = this.outShape[1] * this.outShape[2];
    this.identity = factors[0] === 1 && factors[1] === 1 && factors[2] === 1;
    this.divisor = factors[0] * factors[1] * factors[2];
  }

  /** Consumes `depth` consecutive full-resolution planes. */
  push(input: SlabInput, depth: number): void {
    const slab = typeof input === 'function' ? input : () => input;
    if (this.identity && this.slabFill === 0 && this.passThrough(slab, depth)) return;
    // Taken before any view is made: taking may grow the heap, which would stale older views.
    const out = (this.outArea ??= this.memory.uint16(
      Math.min(this.outDepth, this.outShape[0]) * this.planeOut,
    ));
    const acc = this.identity ? undefined : (this.accArea ??= this.memory.float64(this.planeOut));
    for (let i = 0; i < depth; i++) {
      // Views re-made per plane: the previous plane's commit may have written to HDF5.
      const plane = slab().subarray(i * this.planeIn, (i + 1) * this.planeIn);
      const z = this.zIn++;
      if (!acc) {
        out.view().set(plane, this.slabFill * this.planeOut);
        this.commitPlane();
        continue;
      }
      const sums = acc.view();
      addPlaneBlockSums(plane, this.inShape[1], this.inShape[2], this.factors[1], this.factors[2], sums);
      if ((z + 1) % this.factors[0] === 0 || z + 1 === this.inShape[0]) {
        takeBlockMeans(sums, this.divisor, out.view().subarray(this.slabFill * this.planeOut));
        this.commitPlane();
      }
    }
  }

  /** Flushes a last partial slab. Call once after the last plane. */
  finish(): void {
    if (this.slabFill > 0) this.flush();
  }

  /** Gives the buffers back to their memory (call when the view is done or abandoned). */
  release(): void {
    this.accArea?.release();
    this.outArea?.release();
    this.accArea = undefined;
    this.outArea = undefined;
  }

  /** Level 0 with aligned input slabs goes straight to the sink, without a copy. */
  private passThrough(slab: () => Uint16Array, depth: number): boolean {
    const aligned = this.zIn % this.outDepth === 0;
    const whole = depth % this.outDepth === 0 || this.zIn + depth === this.inShape[0];
    if (!aligned || !whole) return false;
    this.sink(this.zIn, slab().subarray(0, depth * this.planeIn), depth);
    this.zIn += depth;
    this.slabZ0 = this.zIn;
    return true;
  }

  private commitPlane(): void {
    this.slabFill++;
    const outDone = this.slabZ0 + this.slabFill;
    if (this.slabFill === this.outDepth || outDone === this.outShape[0]) this.flush();
  }

  private flush(): void {
    this.sink(this.slabZ0, this.outArea!.view().subarray(0, this.slabFill * this.planeOut), this.slabFill);
    this.slabZ0 += this.slabFill;
    this.slabFill = 0;
  }
}
