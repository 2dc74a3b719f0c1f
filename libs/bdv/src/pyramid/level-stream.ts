import type { Zyx } from '../model/pyramid-spec.js';
import { levelShape } from '../model/pyramid-spec.js';
import { blockKernels } from './block-kernels.js';
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
 * (level 0 fed aligned slabs needs neither): memory does not depend on stack depth.
 *
 * A coarser level whose factors are multiples of this one's can be fed this level's block sums
 * instead of the input (`feeding`): it then reads 1/(fz·fy·fx) of the voxels. Its means are the
 * same (see addSumPlaneBlockSums).
 *
 * Views of the input and of its own buffers are re-made after every sink call, since a sink that
 * writes to HDF5 may replace the wasm heap's ArrayBuffer (see ScratchMemory).
 */
export class LevelStream {
  readonly outShape: Zyx;
  private readonly planeIn: number;
  private readonly planeOut: number;
  private readonly identity: boolean;
  private readonly children: LevelStream[] = [];
  private readonly kernels = blockKernels();
  private accArea: Scratch<Float64Array> | undefined;
  private outArea: Scratch<Uint16Array> | undefined;
  private zIn = 0;
  private slabZ0 = 0;
  private slabFill = 0;

  /**
   * `inShape` and `factors` are those of what this stream consumes: the stack, or a finer level's
   * sums (see feeding). `divisor` is the full-resolution block volume.
   */
  constructor(
    private readonly inShape: Zyx,
    private readonly factors: Zyx,
    private readonly outDepth: number,
    private readonly sink: SlabSink,
    private readonly memory: ScratchMemory = jsMemory,
    private readonly divisor = factors[0] * factors[1] * factors[2],
  ) {
    this.outShape = levelShape(inShape, factors);
    this.planeIn = inShape[1] * inShape[2];
    this.planeOut = this.outShape[1] * this.outShape[2];
    this.identity = factors[0] === 1 && factors[1] === 1 && factors[2] === 1;
  }

  /**
   * A stream for the level of full-resolution `factors`, fed by `parent` (of `parentFactors`)
   * with its block sums; `factors` must be multiples of `parentFactors` (see canFeed).
   */
  static feeding(
    parent: LevelStream,
    parentFactors: Zyx,
    factors: Zyx,
    outDepth: number,
    sink: SlabSink,
    memory: ScratchMemory = jsMemory,
  ): LevelStream {
    const ratio: Zyx = [
      factors[0] / parentFactors[0],
      factors[1] / parentFactors[1],
      factors[2] / parentFactors[2],
    ];
    const child = new LevelStream(
      parent.outShape,
      ratio,
      outDepth,
      sink,
      memory,
      factors[0] * factors[1] * factors[2],
    );
    parent.children.push(child);
    return child;
  }

  /** True if the level of `factors` can be computed from the block sums of the level of `finer`. */
  static canFeed(finer: Zyx, factors: Zyx): boolean {
    const subsamples = finer.some((f) => f > 1);
    return subsamples && finer.every((f, i) => factors[i]! % f === 0);
  }

  /** Consumes `depth` consecutive full-resolution planes. */
  push(input: SlabInput, depth: number): void {
    const slab = typeof input === 'function' ? input : () => input;
    if (this.identity && this.slabFill === 0 && this.passThrough(slab, depth)) return;
    this.takeBuffers();
    for (let i = 0; i < depth; i++) {
      // Views re-made per plane: the previous plane's commit may have written to HDF5.
      const plane = slab().subarray(i * this.planeIn, (i + 1) * this.planeIn);
      if (this.identity) {
        this.zIn++;
        this.outArea!.view().set(plane, this.slabFill * this.planeOut);
        this.commitPlane();
        continue;
      }
      const [, ny, nx] = this.inShape;
      this.kernels.addPlaneBlockSums(plane, ny, nx, this.factors[1], this.factors[2], this.accArea!.view());
      this.planeAdded();
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

  /** One plane of a finer level's block sums (a getter: the plane may move during our sink calls). */
  private pushSums(plane: () => Float64Array): void {
    this.takeBuffers();
    const [, ny, nx] = this.inShape;
    this.kernels.addSumPlaneBlockSums(
      plane(),
      ny,
      nx,
      this.factors[1],
      this.factors[2],
      this.accArea!.view(),
    );
    this.planeAdded();
  }

  /** Taken before any view is made: taking may grow the heap, which would stale older views. */
  private takeBuffers(): void {
    this.outArea ??= this.memory.uint16(Math.min(this.outDepth, this.outShape[0]) * this.planeOut);
    if (!this.identity) this.accArea ??= this.memory.float64(this.planeOut);
  }

  /** After a plane's sums went into the accumulator: an output plane is done every fz planes. */
  private planeAdded(): void {
    const z = this.zIn++;
    if ((z + 1) % this.factors[0] !== 0 && z + 1 !== this.inShape[0]) return;
    // Coarser levels take the sums before they are turned into means (and cleared).
    for (const child of this.children) child.pushSums(() => this.accArea!.view());
    const out = this.outArea!.view().subarray(this.slabFill * this.planeOut);
    this.kernels.takeBlockMeans(this.accArea!.view(), this.divisor, out);
    this.commitPlane();
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
