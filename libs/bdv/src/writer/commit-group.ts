import { BdvError } from '../errors.js';
import { rollBack } from '../h5/rollback-journal.js';
import type { WriterFence } from '../h5/writer-fence.js';
import type { LevelChecksum } from '../model/checksums.js';
import type { ViewRecord } from '../model/view-metadata.js';
import type { BdvFormat } from './bdv-format.js';
import type { DatasetFile } from './dataset-file.js';
import type { StackInput, ViewProgress } from './stack-input.js';
import { assertFenceHeld, openAppend } from './view-files.js';

/** When a group of appended views is committed: whichever bound is reached first. */
export interface CommitGroupLimits {
  /** Bytes of input (level 0) a group may hold uncommitted; 0 commits every view on its own. */
  bytes: number;
  /** Seconds since the group was opened (its first view began). */
  seconds: number;
}

/**
 * 256 MiB or 2 s: a commit's fixed cost (~7 fsyncs, 10-20 ms) is small beside either (ADR 008),
 * and a crash undoes at most that much work plus the view under way.
 */
export const DEFAULT_COMMIT_GROUP: CommitGroupLimits = { bytes: 256 * 1024 * 1024, seconds: 2 };

export interface CommittedView {
  record: ViewRecord;
  sums: LevelChecksum[];
}

/**
 * Views appended to a single-layout .h5 as one commit (one open append, one journal), so that
 * many small views do not each pay a commit's fsyncs. After every view HDF5 flushes (no fsync)
 * and the journal marks a savepoint: a view that fails or is interrupted is undone back to it and
 * the views before it are committed. A crash (kill -9, power) rolls the whole uncommitted group
 * back from the journal on the next open: the views of the last commit stay.
 */
export class CommitGroup {
  private file: DatasetFile | undefined;
  private pending: CommittedView[] = [];
  private pendingBytes = 0;
  private openedAt = 0;
  private appending = false;

  constructor(
    private readonly h5Path: string,
    private readonly format: BdvFormat,
    private readonly fence: WriterFence | undefined,
    private readonly limits: CommitGroupLimits,
  ) {}

  /** Views written but not committed yet. */
  get uncommitted(): readonly CommittedView[] {
    return this.pending;
  }

  /**
   * Appends one view; returns the views committed by this call (this one among them when its
   * group was due). On failure the view is undone and the views before it are committed; the
   * error carries them (`committedBefore`), or says they were undone too.
   */
  async append(
    record: ViewRecord,
    stack: StackInput,
    onProgress?: (p: ViewProgress) => void,
  ): Promise<CommittedView[]> {
    // A second append while one runs would open the file again and roll back the live journal.
    if (this.appending)
      throw new BdvError('STATE', 'a view is being written: await each appendView before the next', 'view');
    this.appending = true;
    try {
      return await this.appendOne(record, stack, onProgress);
    } finally {
      this.appending = false;
    }
  }

  private async appendOne(
    record: ViewRecord,
    stack: StackInput,
    onProgress?: (p: ViewProgress) => void,
  ): Promise<CommittedView[]> {
    if (!this.file) {
      this.file = await openAppend(this.h5Path, this.format);
      this.openedAt = performance.now();
    }
    let sums: LevelChecksum[];
    try {
      sums = await this.file.writeView(record, stack, onProgress);
      assertFenceHeld(this.h5Path, this.fence);
    } catch (error) {
      throw this.failed(error);
    }
    this.pending.push({ record, sums });
    this.pendingBytes += 2 * record.shapeZyx.reduce((a, b) => a * b, 1);
    const due =
      this.pendingBytes >= this.limits.bytes ||
      performance.now() - this.openedAt >= this.limits.seconds * 1000;
    if (due) return this.commit();
    try {
      this.file.savepoint();
    } catch (error) {
      // The flush failed: what it wrote is undone back to the view before this one.
      this.pending.pop();
      throw this.failed(error);
    }
    return [];
  }

  /** Commits the open group (fsyncs, journal deleted); returns its views. */
  commit(): CommittedView[] {
    const file = this.file;
    if (!file) return [];
    this.file = undefined;
    try {
      assertFenceHeld(this.h5Path, this.fence);
      file.close();
    } catch (error) {
      file.abort();
      // A close that failed half-way leaves its journal: roll back now, not at the next open.
      if (this.fence?.held ?? true) rollBack(this.h5Path);
      throw withLostViews(error, this.takePending());
    }
    return this.takePending();
  }

  /** Undoes the open group, committed views stay: for a writer closed after a failure. */
  abort(): void {
    this.file?.abort();
    this.file = undefined;
    this.takePending();
  }

  private failed(error: unknown): unknown {
    const file = this.file!;
    this.file = undefined;
    // Without the fence nothing may be committed: somebody else may be writing the file.
    const fenceHeld = this.fence?.held ?? true;
    const kept = fenceHeld ? file.abortToSavepoint() : (file.abort(), false);
    const group = this.takePending();
    if (!kept) return withLostViews(error, group);
    if (typeof error === 'object' && error !== null) Object.assign(error, { committedBefore: group });
    return error;
  }

  private takePending(): CommittedView[] {
    const group = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return group;
  }
}

/** A failure that also undid views written before it (they were not committed yet): it says so. */
function withLostViews(error: unknown, lost: readonly CommittedView[]): unknown {
  if (lost.length > 0 && error instanceof Error)
    error.message += ` (the ${lost.length} view(s) written before it since the last commit were undone too)`;
  return error;
}

/** The views committed before a failed append (see CommitGroup.append). */
export function committedBefore(error: unknown): CommittedView[] {
  return (error as { committedBefore?: CommittedView[] } | undefined)?.committedBefore ?? [];
}
