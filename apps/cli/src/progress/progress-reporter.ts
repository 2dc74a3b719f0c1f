import type { SingleBar } from 'cli-progress';
import { humanBytes as human, MB } from './byte-units.js';
import { wantsBar, type ProgressMode } from './progress-mode.js';

/** What a conversion tells the person waiting for it. */
export interface ProgressReporter {
  /** A resumed conversion: how many views of the earlier run are kept (said before `start`). */
  resumed(keptViews: number): void;
  start(totalViews: number, totalBytes: number): void;
  viewStarted(viewKey: string, source: string): void;
  bytes(count: number): void;
  viewDone(viewKey: string, bytes: number, seconds: number): void;
  stop(): void;
}

const resumedLine = (kept: number) =>
  `resuming: ${kept} view(s) the earlier run wrote read back as written and are kept`;

/**
 * A time as the bar shows it, or "-" until one is known: cli-progress gives its ETA as the text
 * '0' before the first update and 'INF' while nothing was written, which its own format cut to
 * "0s" and "NFs".
 */
export function etaText<O>(
  seconds: unknown,
  options: O,
  roundTo: number,
  format: (t: number, options: O, roundTo: number) => string,
): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? format(seconds, options, roundTo) : '-';
}

/** A live bar (bytes, views, speed, ETA) for terminals. */
class BarProgress implements ProgressReporter {
  constructor(private readonly bar: SingleBar) {}

  /** cli-progress and its text-width modules load only for a bar: ~6 ms of every other start. */
  static async create(): Promise<BarProgress> {
    const { default: cliProgress } = await import('cli-progress');
    const bar = new cliProgress.SingleBar(
      {
        format:
          ' {bar} {percentage}% | {doneMb}/{totalMb} MB | views {views}/{viewsTotal} | {speed} MB/s | ETA {eta_formatted} | {current}',
        hideCursor: true,
        etaBuffer: 50,
        stream: process.stderr,
        formatTime: (t, options, roundTo) => etaText(t, options, roundTo, cliProgress.Format.TimeFormat),
      },
      cliProgress.Presets.shades_classic,
    );
    return new BarProgress(bar);
  }

  private bytesDone = 0;
  private viewsDone = 0;
  private viewsTotal = 0;
  private started = 0;

  resumed(keptViews: number): void {
    process.stderr.write(`${resumedLine(keptViews)}\n`);
  }

  start(totalViews: number, totalBytes: number): void {
    this.viewsTotal = totalViews;
    this.started = Date.now();
    this.bar.start(totalBytes, 0, this.payload(''));
  }

  viewStarted(viewKey: string): void {
    this.bar.update(this.bytesDone, this.payload(viewKey));
  }

  bytes(count: number): void {
    this.bytesDone += count;
    this.bar.update(this.bytesDone, this.payload());
  }

  viewDone(): void {
    this.viewsDone++;
    this.bar.update(this.bytesDone, this.payload());
  }

  stop(): void {
    this.bar.stop();
  }

  private payload(current?: string): Record<string, string | number> {
    const seconds = Math.max(1e-3, (Date.now() - this.started) / 1000);
    return {
      doneMb: (this.bytesDone / MB).toFixed(0),
      totalMb: (this.bar.getTotal() / MB).toFixed(0),
      views: this.viewsDone,
      viewsTotal: this.viewsTotal,
      speed: (this.bytesDone / MB / seconds).toFixed(0),
      ...(current !== undefined ? { current } : {}),
    };
  }
}

/** One line per view, for logs and pipes (no escape codes). */
class LineProgress implements ProgressReporter {
  private viewsTotal = 0;
  private viewsDone = 0;

  constructor(private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  resumed(keptViews: number): void {
    this.write(resumedLine(keptViews));
  }

  start(totalViews: number, totalBytes: number): void {
    this.viewsTotal = totalViews;
    this.write(`converting ${totalViews} view(s), ${human(totalBytes)}`);
  }

  viewStarted(): void {}

  bytes(): void {}

  viewDone(viewKey: string, bytes: number, seconds: number): void {
    this.viewsDone++;
    const speed = bytes / MB / Math.max(seconds, 1e-3);
    this.write(
      `[${this.viewsDone}/${this.viewsTotal}] ${viewKey}: ${human(bytes)} in ${seconds.toFixed(2)} s (${speed.toFixed(0)} MB/s)`,
    );
  }

  stop(): void {}
}

class SilentProgress implements ProgressReporter {
  resumed(): void {}
  start(): void {}
  viewStarted(): void {}
  bytes(): void {}
  viewDone(): void {}
  stop(): void {}
}

export async function progressFor(mode: ProgressMode): Promise<ProgressReporter> {
  if (mode === 'none') return new SilentProgress();
  return wantsBar(mode) ? BarProgress.create() : new LineProgress();
}
