// Progress for people: a bar on an interactive terminal (cli-progress), a line at most
// every few seconds when piped or in CI, JSON events for log shippers, nothing when quiet.
import { SingleBar } from 'cli-progress';
import type { ProgressReporter } from '../log/progress.ts';
import { noProgress } from '../log/progress.ts';
import { lineProgress, rate } from '../log/progress-lines.ts';

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
