import type { Zyx } from '../model/pyramid-spec.js';
import { levelShape } from '../model/pyramid-spec.js';
import { addPlaneBlockSums, takeBlockMeans } from './block-mean.js';

/** Receives a finished z-slab of one level: `depth` planes starting at output plane `z0`. */
export type SlabSink = (z0: number, slab: Uint16Array, depth: number) => void;

/**
 * Turns the full-resolution stack, arriving as consecutive z-slabs, into one pyramid level and
 * hands it on in slabs of `outDepth` planes (a multiple of the level's chunk depth, so every HDF5
 * chunk is written whole, once). Holds one accumulator plane and one output slab: memory does not
 * depend on stack depth.
 */
export class LevelStream {
  readonly outShape: Zyx;
  private readonly planeIn: number;
  private readonly planeOut: number;
  private readonly identity: boolean;
  private readonly acc: Float64Array;
  private readonly divisor: number;
  private readonly outSlab: Uint16Array;
  private zIn = 0;
  private slabZ0 = 0;
  private slabFill = 0;

  constructor(
    private readonly inShape: Zyx,
    private readonly factors: Zyx,
    private readonly outDepth: number,
    private readonly sink: SlabSink,
  ) {
    this.outShape = levelShape(inShape, factors);
    this.planeIn = inShape[1] * inShape[2];
    this.planeOut = this.outShape[1] * this.outShape[2];
    this.identity = factors[0] === 1 && factors[1] === 1 && factors[2] === 1;
    this.acc = new Float64Array(this.identity ? 0 : this.planeOut);
    this.divisor = factors[0] * factors[1] * factors[2];
    this.outSlab = new Uint16Array(Math.min(outDepth, this.outShape[0]) * this.planeOut);
  }

  /** Consumes `depth` consecutive full-resolution planes. */
  push(slab: Uint16Array, depth: number): void {
    if (this.identity && this.slabFill === 0 && this.passThrough(slab, depth)) return;
    for (let i = 0; i < depth; i++) {
      const plane = slab.subarray(i * this.planeIn, (i + 1) * this.planeIn);
      const z = this.zIn++;
      if (this.identity) {
        this.outSlab.set(plane, this.slabFill * this.planeOut);
        this.commitPlane();
        continue;
      }
      addPlaneBlockSums(plane, this.inShape[1], this.inShape[2], this.factors[1], this.factors[2], this.acc);
      if ((z + 1) % this.factors[0] === 0 || z + 1 === this.inShape[0]) {
        takeBlockMeans(this.acc, this.divisor, this.outSlab.subarray(this.slabFill * this.planeOut));
        this.commitPlane();
      }
    }
  }

  /** Flushes a last partial slab. Call once after the last plane. */
  finish(): void {
    if (this.slabFill > 0) this.flush();
  }

  /** Level 0 with aligned input slabs goes straight to the sink, without a copy. */
  private passThrough(slab: Uint16Array, depth: number): boolean {
    const aligned = this.zIn % this.outDepth === 0;
    const whole = depth % this.outDepth === 0 || this.zIn + depth === this.inShape[0];
    if (!aligned || !whole) return false;
    this.sink(this.zIn, slab.subarray(0, depth * this.planeIn), depth);
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
    this.sink(this.slabZ0, this.outSlab.subarray(0, this.slabFill * this.planeOut), this.slabFill);
    this.slabZ0 += this.slabFill;
    this.slabFill = 0;
  }
}
