// Progress for people: a bar on an interactive terminal (cli-progress), a line at most
// every few seconds when piped or in CI, JSON events for log shippers, nothing when quiet.
import { SingleBar } from 'cli-progress';
import type { ProgressReporter, ProgressSnapshot } from '../log/progress.ts';
import { noProgress } from '../log/progress.ts';

export interface ProgressOptions {
  quiet: boolean;
  format: 'text' | 'json';
  interactive: boolean;
  /** Minimum milliseconds between two progress lines when not interactive. */
  intervalMs: number;
  write: (line: string) => void;
  stream: NodeJS.WritableStream;
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  if (options.quiet) return noProgress;
  if (options.interactive && options.format === 'text') return barProgress(options.stream);
  return lineProgress(options);
}

function barProgress(stream: NodeJS.WritableStream): ProgressReporter {
  const bar = new SingleBar({
    stream,
    format:
      '{job} [{bar}] {value}/{total} read | {written} written | {failed} failed | {rate}/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = 0;
  let running = false;
  return {
    update(snapshot) {
      const total = snapshot.total ?? snapshot.read;
      const payload = {
        job: snapshot.job,
        written: snapshot.written,
        failed: snapshot.failed,
        rate: rate(snapshot, started),
      };
      if (!running) {
        started = Date.now();
        bar.start(total, snapshot.read, { ...payload, rate: 0 });
        running = true;
        return;
      }
      bar.setTotal(Math.max(total, snapshot.read));
      bar.update(snapshot.read, payload);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

function lineProgress(options: ProgressOptions): ProgressReporter {
  let last = 0;
  let started = 0;
  let pending: ProgressSnapshot | undefined;
  const emit = (snapshot: ProgressSnapshot) => {
    last = Date.now();
    pending = undefined;
    const perSecond = rate(snapshot, started);
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
    const of = snapshot.total === undefined ? '' : ` of ${snapshot.total}`;
    const eta =
      snapshot.total !== undefined && perSecond > 0
        ? `, ETA ${Math.ceil((snapshot.total - snapshot.read) / perSecond)} s`
        : '';
    options.write(
      `${snapshot.job}: page ${snapshot.page}, ${snapshot.read}${of} users read, ${snapshot.written} written, ${snapshot.failed} failed, ${perSecond}/s${eta}`,
    );
  };
  return {
    update(snapshot) {
      if (started === 0) started = Date.now();
      if (Date.now() - last >= options.intervalMs) emit(snapshot);
      else pending = snapshot;
    },
    stop() {
      if (pending) emit(pending);
    },
  };
}

function rate(snapshot: ProgressSnapshot, started: number): number {
  const seconds = (Date.now() - started) / 1000;
  return started === 0 || seconds <= 0 ? 0 : Math.round(snapshot.read / seconds);
}
