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
  private running: Promise<unknown> | undefined;
  private committedOnFailure: CommittedView[] = [];

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
   * Runs `work` (one view's append and what its caller does first) alone: a second one while it
   * runs is refused — it would open the file again and roll back the live journal — and
   * `settled` waits for it.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.running)
      return Promise.reject(
        new BdvError('STATE', 'a view is being written: await each appendView before the next', 'view'),
      );
    const run = work();
    this.running = run;
    return run.finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once no append runs (whatever its outcome): commit, close and the rest wait for it. */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** The views a failed append committed before undoing its own view (once). */
  takeCommittedOnFailure(): CommittedView[] {
    const views = this.committedOnFailure;
    this.committedOnFailure = [];
    return views;
  }

  /**
   * Appends one view (inside `exclusive`); returns the views committed by this call (this one
   * among them when its group was due). On failure the view is undone and the views before it are
   * committed (take them with `takeCommittedOnFailure`), or the error says they were undone too.
   */
  async append(
    record: ViewRecord,
    stack: StackInput,
    onProgress?: (p: ViewProgress) => void,
  ): Promise<CommittedView[]> {
    // A group past its age commits before the next view: a long view does not hold it open.
    const committed = this.file && this.aged() ? this.commit() : [];
    if (!this.file) {
      try {
        this.file = await openAppend(this.h5Path, this.format);
      } catch (error) {
        this.committedOnFailure = committed;
        throw error;
      }
      this.openedAt = performance.now();
    }
    let sums: LevelChecksum[];
    try {
      sums = await this.file.writeView(record, stack, onProgress);
      assertFenceHeld(this.h5Path, this.fence);
    } catch (error) {
      throw this.failed(error, committed);
    }
    this.pending.push({ record, sums });
    this.pendingBytes += 2 * record.shapeZyx.reduce((a, b) => a * b, 1);
    if (this.pendingBytes >= this.limits.bytes || this.aged()) return [...committed, ...this.commit()];
    try {
      this.file.savepoint();
    } catch (error) {
      // The flush failed: what it wrote is undone back to the view before this one.
      this.pending.pop();
      throw this.failed(error, committed);
    }
    return committed;
  }

  /** Commits the open group (fsyncs, journal deleted); returns its views. */
  commit(): CommittedView[] {
    const file = this.file;
    if (!file) return [];
    this.file = undefined;
    const group = this.takePending();
    try {
      assertFenceHeld(this.h5Path, this.fence);
      file.close();
    } catch (error) {
      file.abort();
      try {
        // A close that failed half-way may leave its journal: roll back now, not at the next open.
        if (this.fence?.held ?? true) rollBack(this.h5Path);
      } catch {
        // the journal stays; the next open (under the fence) rolls it back
      }
      throw withLostViews(error, group, 'of this commit were undone');
    }
    return group;
  }

  /** Undoes the open group, committed views stay: for a writer closed after a failure. */
  abort(): void {
    const file = this.file;
    this.file = undefined;
    this.takePending();
    file?.abort();
  }

  /**
   * The view under way failed: undone back to the savepoint before it, and the views before it
   * committed — or, without the fence or when undoing fails, back to the last commit. Never
   * replaces the view's own error.
   */
  private failed(error: unknown, committedBefore: CommittedView[]): unknown {
    const file = this.file!;
    this.file = undefined;
    const group = this.takePending();
    let kept = false;
    try {
      // Without the fence nothing may be committed: somebody else may be writing the file.
      if (this.fence?.held ?? true) kept = file.abortToSavepoint();
      else file.abort();
    } catch {
      // kept stays false: the group is undone (now, or by the journal at the next open)
    }
    this.committedOnFailure = kept ? [...committedBefore, ...group] : committedBefore;
    return kept
      ? error
      : withLostViews(error, group, 'written before it since the last commit were undone too');
  }

  private aged(): boolean {
    return performance.now() - this.openedAt >= this.limits.seconds * 1000;
  }

  private takePending(): CommittedView[] {
    const group = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return group;
  }
}

/** A failure that also undid views not committed yet: it says so (they must be written again). */
function withLostViews(error: unknown, lost: readonly CommittedView[], what: string): unknown {
  if (lost.length > 0 && error instanceof Error) error.message += ` (the ${lost.length} view(s) ${what})`;
  return error;
}
