// Progress as log lines, for logs read later (CI, the Actions log, log shippers): a line
// after a page at most every intervalMs, and the last one when the run stops.
import type { ProgressReporter, ProgressSnapshot } from './progress.ts';

export interface ProgressLineOptions {
  format: 'text' | 'json';
  /** Minimum milliseconds between two lines. */
  intervalMs: number;
  write: (line: string) => void;
}

export interface ProgressLines extends ProgressReporter {
  /** The job starts now: its rate counts from here, not from its first finished page. */
  begin(job: string): void;
}

export function lineProgress(options: ProgressLineOptions): ProgressLines {
  let last = 0;
  const started = new Map<string, number>();
  let pending: ProgressSnapshot | undefined;
  const emit = (snapshot: ProgressSnapshot) => {
    last = Date.now();
    pending = undefined;
    const perSecond = rate(snapshot, started.get(snapshot.job) ?? 0);
    if (options.format === 'json') {
      options.write(
        JSON.stringify({
          time: new Date().toISOString(),
          level: 'info',
          event: 'progress',
          ...snapshot,
          rate: perSecond,
        }),
      );
      return;
    }
    options.write(describeProgress(snapshot, perSecond));
  };
  return {
    begin(job) {
      if (pending) emit(pending);
      started.set(job, Date.now());
    },
    update(snapshot) {
      if (!started.has(snapshot.job)) started.set(snapshot.job, Date.now());
      if (Date.now() - last >= options.intervalMs) emit(snapshot);
      else pending = snapshot;
    },
    stop() {
      if (pending) emit(pending);
    },
  };
}

/** "staff: page 3, 2997 of 10000 users read, 120 written, 0 failed, 310/s, ETA 23 s" */
export function describeProgress(snapshot: ProgressSnapshot, perSecond: number): string {
  const of = snapshot.total === undefined ? '' : ` of ${snapshot.total}`;
  const eta =
    snapshot.total !== undefined && perSecond > 0
      ? `, ETA ${Math.ceil((snapshot.total - snapshot.read) / perSecond)} s`
      : '';
  const speed = perSecond > 0 ? `, ${perSecond}/s` : '';
  return `${snapshot.job}: page ${snapshot.page}, ${snapshot.read}${of} users read, ${snapshot.written} written, ${snapshot.failed} failed${speed}${eta}`;
}

/**
 * Users read per second since `started`; 0 (not shown) in the first second, where one page
 * over a few milliseconds would claim tens of thousands per second.
 */
export function rate(snapshot: ProgressSnapshot, started: number): number {
  const seconds = (Date.now() - started) / 1000;
  return started === 0 || seconds < 1 ? 0 : Math.round(snapshot.read / seconds);
}
