import { ActionableError, ExitCode } from '../errors.ts';
import type { LockHolder } from './lock-owner.ts';

/** Who holds a lock, in words: run, its page on GitHub, machine and process, since when. */
export function describeHolder(holder: LockHolder): string {
  const url = holder.runUrl ? ` (${holder.runUrl})` : '';
  const pid = holder.pid ? `, pid ${holder.pid}` : '';
  return `run ${holder.runId}${url} on ${holder.host || 'an unknown host'}${pid}, since ${holder.startedAt || 'an unknown time'}`;
}

/**
 * Another live run holds the job. That run is doing the job's work, so this is not a
 * failure of this run: it skips the job (exit 0, a warning and a "skipped" summary).
 */
export class JobAlreadyRunningError extends ActionableError {
  readonly job: string;
  readonly holder: LockHolder | undefined;
  /** For the job's summary: skipped because … */
  readonly skippedBecause: string;

  constructor(job: string, holder: LockHolder | undefined, where: string) {
    const who = holder ? describeHolder(holder) : 'another run took the lock at the same moment';
    const frees = holder?.expiresAt
      ? `; its lease frees at ${holder.expiresAt} unless that run renews it`
      : holder
        ? '; the lock frees when that process ends'
        : '';
    super(`Job "${job}" is already running: ${who}${frees}. This run skipped the job. Lock: ${where}.`, {
      hint: `Wait for that run to finish. If it is gone (killed, cancelled, its runner lost), free the job with \`entra-wp-sync state unlock --job ${job}\`.`,
      exitCode: ExitCode.ok,
    });
    this.name = 'JobAlreadyRunningError';
    this.job = job;
    this.holder = holder;
    this.skippedBecause = `another run holds the job: ${who}${frees}`;
  }
}

/**
 * This run's lease ran out (it could not renew it in time) and another run has taken the
 * job over: this run stops writing, and the other one carries on with the cycle.
 */
export class LockLostError extends ActionableError {
  readonly holder: LockHolder | undefined;

  constructor(job: string, holder: LockHolder | undefined) {
    const who = holder ? describeHolder(holder) : 'another run';
    super(
      `Job "${job}": ${who} took the job over after this run's lease ran out; this run stopped writing, and that run continues the cycle.`,
      {
        hint: 'A lease runs out when the run cannot reach WordPress for about 2 minutes, or its machine was paused; check the connection between the runner and the site.',
        exitCode: ExitCode.failed,
      },
    );
    this.name = 'LockLostError';
    this.holder = holder;
  }
}

export class CorruptCheckpointError extends ActionableError {
  constructor(job: string, where: string, detail: string) {
    super(`The checkpoint of job "${job}" at ${where} is damaged (${detail}); nothing was changed.`, {
      hint: `Run \`entra-wp-sync state reset --job ${job}\` to start a fresh cycle (no deletions happen until that cycle completes).`,
      exitCode: ExitCode.failed,
    });
    this.name = 'CorruptCheckpointError';
  }
}
