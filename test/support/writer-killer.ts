import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FaultCluster, LogEvent } from './fault-cluster.js';

/** One SIGKILL sent to a writer in the middle of a view. */
export interface WriterKill {
  viewKey: string;
  role: string;
  /** 'time': after a random fraction of a view's bytes; 'end': at its very end (see endFraction). */
  mode: 'time' | 'end';
  /** Of a view's bytes ('time'), or of what one append adds to the single file ('end' there). */
  fraction: number;
  /** Milliseconds from the writer's "writing view" to the kill. */
  afterMs: number;
  /** Single layout: whether the append's rollback journal existed when the kill was sent. */
  journal?: boolean;
  /** The view had not been written when the writer died. */
  landed: boolean;
  /** Index of the cluster's event log when the kill was sent. */
  atEvent: number;
  /** Seconds until the work moved on (see measureTakeovers()). */
  takeoverS?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a hunt watches one view's file grow before it aims at the next one instead. */
const AIM_LIMIT_MS = 60_000;

/**
 * Kills the writers of one dataset with SIGKILL in the middle of its views, as they are written,
 * and starts each again at once. When a kill is sent follows the real writes, not the clock
 * (however busy the machine): once the view's file has grown by a random fraction of what one view
 * adds, or — every other landed kill — at its very end: the last chunks and the final flush of
 * the chunk index in close() (see endFraction). One hunter per writer, so both are
 * hunted at once. A view is killed at most twice — BullMQ fails a job whose writers die three
 * times — and a second time only once no view that was never killed waits in the queue.
 * For datasets whose setups are tiles (view key `tT-i0-c0-sS-a0`: setup S).
 */
export class WriterKiller {
  readonly kills: WriterKill[] = [];
  /** Kills aimed but not sent (the view's write ended first), for the test's output. */
  private readonly passes: string[] = [];
  private readonly killed = new Map<string, number>();
  /** Single layout: the file's committed lengths seen so far (each append's journal holds one). */
  private readonly committedLengths = new Set<number>();

  constructor(
    private readonly cluster: FaultCluster,
    private readonly datasetId: string,
    private readonly layout: 'single' | 'partitioned',
    /** The dataset's .h5 (the master, in the partitioned layout). */
    private readonly h5: string,
    private readonly viewKeys: readonly string[],
    private readonly random: () => number,
  ) {}

  get landed(): WriterKill[] {
    return this.kills.filter((k) => k.landed);
  }

  /** Kills until `target` kills landed; throws if the dataset's views are all written first. */
  async run(target: number, roles = ['writer-1', 'writer-2']): Promise<void> {
    let watching = true;
    const watcher = this.layout === 'single' ? this.watchJournals(() => watching) : undefined;
    try {
      const first = await this.cluster.waitFor(
        (e) => e.msg === 'view written' && e.fields.datasetId === this.datasetId,
        { timeoutMs: 120_000 },
      );
      // What one view adds to its file: the first one written whole (single: the file holding it).
      const viewBytes = statSync(
        this.layout === 'single' ? this.h5 : partitionOf(this.h5, String(first.fields.viewKey)),
      ).size;
      await Promise.all(roles.map((role) => this.hunt(role, target, viewBytes)));
    } finally {
      watching = false;
      await watcher;
    }
    if (this.landed.length < target)
      throw new Error(
        `${this.layout}: only ${this.landed.length} of ${target} kills landed before every view was written`,
      );
  }

  /**
   * Seconds from each landed kill until the work moved on, from the logs: in the single layout the
   * next view of the dataset begun by anyone (the dead writer's dataset turn and file fence
   * freed), in the partitioned layout the killed view begun again (its job's lease ran out).
   */
  measureTakeovers(): void {
    const events = this.cluster.events;
    for (const k of this.landed) {
      const at = events[k.atEvent - 1]?.at ?? 0;
      const again = events
        .slice(k.atEvent)
        .find((e) => this.isWriting(e) && (this.layout === 'single' || e.fields.viewKey === k.viewKey));
      if (again) k.takeoverS = (again.at - at) / 1000;
    }
  }

  /** One line per kill, for the test's output. */
  describe(): string {
    const sent = this.kills
      .map(
        (k) =>
          `  ${this.layout.padEnd(11)} ${k.viewKey} ${k.role} ${k.mode.padEnd(4)} +${k.afterMs} ms ` +
          `(${(k.fraction * 100).toFixed(1)}% of ${k.mode === 'end' && this.layout === 'single' ? 'an append' : "a view's bytes"})` +
          `${k.journal !== undefined ? ` journal=${k.journal}` : ''} ${k.landed ? 'landed' : 'missed'}` +
          `${k.takeoverS !== undefined ? `, work resumed ${k.takeoverS.toFixed(1)} s later` : ''}`,
      )
      .join('\n');
    return [sent, ...this.passes].join('\n');
  }

  private async hunt(role: string, target: number, viewBytes: number): Promise<void> {
    const { cluster } = this;
    const begun = new Set<string>();
    let cursor = -1;
    while (this.landed.length < target) {
      const event = await cluster
        .waitFor((e) => e.role === role && this.isWriting(e), { since: cursor + 1, timeoutMs: 15_000 })
        .catch(() => undefined);
      if (!event) {
        // This writer may wait long for the single file's turn (the other one holds it, or a
        // killed holder's lease runs out): give up only once every view is written.
        if (this.allWritten()) return; // run() says whether enough kills landed
        continue;
      }
      cursor = cluster.events.indexOf(event);
      for (const e of cluster.events.slice(0, cursor + 1))
        if (this.isWriting(e)) begun.add(String(e.fields.viewKey));
      const viewKey = String(event.fields.viewKey);
      const queuedFresh = this.viewKeys.filter((k) => !this.killed.has(k) && !begun.has(k));
      const times = this.killed.get(viewKey) ?? 0;
      if (times >= 2 || (times === 1 && queuedFresh.length > 0)) {
        this.passes.push(
          `  ${this.layout.padEnd(11)} ${viewKey} ${role} not aimed: killed ${times} time(s) already`,
        );
        continue;
      }
      const landedAs = (m: WriterKill['mode']) => this.landed.filter((k) => k.mode === m).length;
      const appendBytes = this.appendBytes();
      // Single layout: an 'end' kill needs what one append adds, known once two appends were seen.
      const mode: WriterKill['mode'] =
        landedAs('end') < landedAs('time') && (this.layout === 'partitioned' || appendBytes > 0)
          ? 'end'
          : 'time';
      const fraction = mode === 'time' ? 0.05 + 0.8 * this.random() : this.endFraction();
      const goal = fraction * (mode === 'end' && this.layout === 'single' ? appendBytes : viewBytes);
      // From the smallest size seen: a killed append is rolled back (truncated) by the retry. In
      // the single layout also from where the append began, if its journal says (this hunt may
      // look only after the append grew): a journal written to since the view began is this
      // append's — a killed one's (rolled back by the retry) is older than the retry's lease.
      let low = Infinity;
      let grown = 0;
      const aimedAt = Date.now();
      let gaveUp: string | undefined;
      for (;;) {
        const size = sizeOfTarget(this.layout, this.h5, viewKey, event.at - 1000);
        const head = this.layout === 'single' ? readJournalHead(this.h5) : undefined;
        const began = head && head.changedMs >= event.at - 500 ? head.originalLength : size;
        low = Math.min(low, size, began);
        grown = Math.max(grown, size - low);
        if (size - low >= goal || this.wroteBy(viewKey, role, cursor)) break;
        // The view ended another way (its writer began another one: this one failed or was given
        // back), or stopped growing short of the goal: aim again at the next view, never wait on.
        if (this.movedOn(role, cursor)) gaveUp = 'its writer began another view first';
        else if (Date.now() - aimedAt > AIM_LIMIT_MS)
          gaveUp = `the file did not grow enough in ${AIM_LIMIT_MS / 1000} s`;
        if (gaveUp) break;
        await sleep(2);
      }
      if (this.landed.length >= target) return;
      const late = (why: string) =>
        this.passes.push(
          `  ${this.layout.padEnd(11)} ${viewKey} ${role} ${mode.padEnd(4)} not sent: ${why} ` +
            `(seen growing ${grown} of ${Math.round(goal)} bytes aimed at)`,
        );
      if (gaveUp) {
        late(gaveUp);
        continue;
      }
      if (this.wroteBy(viewKey, role, cursor)) {
        late('the view was written first');
        continue;
      }
      const journal = this.layout === 'single' ? existsSync(`${this.h5}.journal`) : undefined;
      // The append committed (its journal is gone) before its end was seen: too late, no kill.
      if (mode === 'end' && journal === false) {
        late('the append committed first');
        continue;
      }
      const afterMs = Date.now() - event.at;
      const atEvent = cluster.events.length;
      await cluster.signal(role, 'SIGKILL');
      await sleep(50); // the dead writer's last lines are in the pipe
      const landed = !this.wroteBy(viewKey, role, cursor);
      this.kills.push({ viewKey, role, mode, fraction, afterMs, journal, landed, atEvent });
      // Missed by a hair: the writer may have begun its next view, which this kill hit instead.
      const hit = landed ? viewKey : this.inHand(role, cursor);
      if (hit) this.killed.set(hit, (this.killed.get(hit) ?? 0) + 1);
      await cluster.restart(role);
    }
  }

  /**
   * Where an 'end' kill goes. Partitioned: a fraction of the first view's partition — a new
   * partition reaches its full size before close() (which fills space already allocated), so past
   * 98.5 % is the last chunks or close() itself. Single: a fraction of what one append adds (not of
   * the file that held the first view: its headers made some 'end' kills come after the commit),
   * which still grows in close(): 97-99 %.
   */
  private endFraction(): number {
    return this.layout === 'partitioned' ? 0.985 + 0.015 * this.random() : 0.97 + 0.02 * this.random();
  }

  /**
   * Single layout: notes the file's committed lengths from the journals of its appends (each
   * holds the length its append began at) while `going()`; polled from before the first view is
   * written and apart from the hunts, so that appends no hunt looked at count too.
   */
  private async watchJournals(going: () => boolean): Promise<void> {
    while (going()) {
      const began = readJournalHead(this.h5)?.originalLength;
      if (began !== undefined) this.committedLengths.add(began);
      await sleep(5);
    }
  }

  /**
   * Single layout: what the smallest append seen added to the file — the least difference of two
   * committed lengths (an append rolled back adds nothing; one missed between two looks adds two
   * appends). 0 until two appends were seen.
   */
  private appendBytes(): number {
    const lengths = [...this.committedLengths].sort((a, b) => a - b);
    let least = 0;
    for (let i = 1; i < lengths.length; i++) {
      const added = lengths[i]! - lengths[i - 1]!;
      if (least === 0 || added < least) least = added;
    }
    return least;
  }

  private allWritten(): boolean {
    const written = this.cluster.writtenCounts(this.datasetId);
    return this.viewKeys.every((k) => (written[k] ?? 0) > 0);
  }

  private isWriting(e: LogEvent): boolean {
    return e.msg === 'writing view' && e.fields.datasetId === this.datasetId;
  }

  private wroteBy(viewKey: string, role: string, since: number): boolean {
    return this.cluster.events
      .slice(since)
      .some(
        (e) =>
          e.msg === 'view written' &&
          e.role === role &&
          e.fields.datasetId === this.datasetId &&
          e.fields.viewKey === viewKey,
      );
  }

  /** The views of this dataset `role` began after the event at `since` ('writing view' lines). */
  private begunAfter(role: string, since: number): LogEvent[] {
    return this.cluster.events.slice(since + 1).filter((e) => e.role === role && this.isWriting(e));
  }

  /** Whether `role` began a view of this dataset after the event at `since`. */
  private movedOn(role: string, since: number): boolean {
    return this.begunAfter(role, since).length > 0;
  }

  /** The view a writer was writing when it died (begun after `since`, not written). */
  private inHand(role: string, since: number): string | undefined {
    const begun = this.begunAfter(role, since).at(-1);
    const key = begun && String(begun.fields.viewKey);
    return key && !this.wroteBy(key, role, this.cluster.events.indexOf(begun)) ? key : undefined;
  }
}

/**
 * Single layout: the head of the .h5's rollback journal, if there is one — the file's length when
 * the append in progress began (magic 'BDVJRNL1', then the original length as u64 LE:
 * libs/bdv/src/h5/rollback-journal.ts) and when the journal last changed. Undefined while there is
 * no journal or its header is not whole yet.
 */
export function readJournalHead(h5: string): { originalLength: number; changedMs: number } | undefined {
  let fd: number;
  try {
    fd = openSync(`${h5}.journal`, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(16);
    if (readSync(fd, head, 0, 16, 0) < 16 || head.toString('latin1', 0, 8) !== 'BDVJRNL1') return undefined;
    return { originalLength: Number(head.readBigUInt64LE(8)), changedMs: fstatSync(fd).ctimeMs };
  } finally {
    closeSync(fd);
  }
}

/** The partition file of a view (`<name>-tTTTTT-sSS.h5` beside the master; setups are tiles). */
export function partitionOf(h5: string, viewKey: string): string {
  const [, time, setup] = /^t(\d+)-i\d+-c\d+-s(\d+)-a\d+$/.exec(viewKey)!;
  const name = `${basename(h5, '.h5')}-t${time!.padStart(5, '0')}-s${setup!.padStart(2, '0')}.h5`;
  return join(dirname(h5), name);
}

/**
 * The size of the file the write of `viewKey` goes to: the dataset's .h5 (single: views are
 * appended at its end) or the view's staged partition (a hidden temporary file beside the master,
 * the newest begun after `since`, 0 while there is none). Follows the real writes.
 */
export function sizeOfTarget(
  layout: 'single' | 'partitioned',
  h5: string,
  viewKey: string,
  since: number,
): number {
  if (layout === 'single') return statSync(h5, { throwIfNoEntry: false })?.size ?? 0;
  const folder = dirname(h5);
  const prefix = `.${basename(partitionOf(h5, viewKey))}.`;
  const staged = (existsSync(folder) ? readdirSync(folder) : [])
    .filter((f) => f.startsWith(prefix) && f.endsWith('.tmp'))
    .map((f) => statSync(join(folder, f), { throwIfNoEntry: false }))
    .filter((st) => st !== undefined && st.mtimeMs >= since)
    .sort((x, y) => y!.mtimeMs - x!.mtimeMs);
  return staged[0]?.size ?? 0;
}
