// The runner cancels a step, or ends it at timeout-minutes, with SIGINT, then SIGTERM
// 7.5 s later and SIGKILL 2.5 s after that. The first signal stops the run at the next
// page, as the CLI does: the page in flight finishes, the checkpoint is saved, the lock
// released and the summary written. A page still in flight when the grace period ends
// (or a second signal) ends the step with what is known, before SIGKILL leaves nothing.
import { ExitCode } from '../errors.ts';

/** Leaves 2.5 s of the runner's 7.5 s before SIGTERM for the report and the exit. */
export const gracePeriodMs = 5000;

const signalExitCodes = { SIGINT: ExitCode.interrupted, SIGTERM: ExitCode.terminated } as const;
type StopSignal = keyof typeof signalExitCodes;

export interface Cancellation {
  /** Aborted by the first signal: the run stops at the next page. */
  readonly signal: AbortSignal;
  /** The signal that asked the run to stop, if one did before settle(). */
  readonly received: StopSignal | undefined;
  /** The exit code of that signal, as the CLI's: 130 (SIGINT) or 143 (SIGTERM). */
  readonly exitCode: number | undefined;
  /** Runs once when the grace period ends with the run still going; the process then exits. */
  onOverdue(handler: () => Promise<void> | void): void;
  /** The run has stopped by itself: signals and a pending grace period no longer matter. */
  settle(): void;
}

/** `say` tells the log a signal came, so whoever cancelled sees the run winding down. */
export function watchForCancellation(say: (message: string) => void, graceMs = gracePeriodMs): Cancellation {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  let settled = false;
  let overdue: (() => Promise<void> | void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ending = false;

  const exitCode = () => (received === undefined ? undefined : signalExitCodes[received]);
  const endNow = async () => {
    if (settled) return;
    if (ending) process.exit(exitCode());
    ending = true;
    try {
      await overdue?.();
    } finally {
      process.exit(exitCode());
    }
  };

  for (const name of Object.keys(signalExitCodes) as StopSignal[]) {
    process.on(name, () => {
      if (settled) return;
      if (received !== undefined) {
        void endNow();
        return;
      }
      received = name;
      controller.abort();
      say(
        `Received ${name}: the run stops after the page in flight (at most ${graceMs / 1000} s), saves its checkpoint and releases its lock; the next run continues.`,
      );
      timer = setTimeout(() => void endNow(), graceMs);
      // Only the run's own work keeps the process alive, never this timer.
      timer.unref();
    });
  }

  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return exitCode();
    },
    onOverdue(handler) {
      overdue = handler;
    },
    settle() {
      settled = true;
      clearTimeout(timer);
    },
  };
}
