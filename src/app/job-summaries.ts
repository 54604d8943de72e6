// Summaries of jobs that did not get to finish a cycle, and the run's exit code from all
// of its jobs' summaries.
import type { ResolvedJob } from '../config/resolve.ts';
import { describeFailure } from '../engine/describe-failure.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import type { JobRunSummary } from '../report/run-summary.ts';

interface JobStart {
  job: ResolvedJob;
  runId: string;
  dryRun: boolean;
  started: Date;
}

/** A job another live run holds: that run does its work, this one did nothing and failed nothing. */
export function skippedSummary(start: JobStart, because: string): JobRunSummary {
  return {
    ...failedSummary(start, undefined),
    fatalError: undefined,
    exitCode: undefined,
    skippedBecause: because,
  };
}

export function failedSummary(start: JobStart, error: unknown): JobRunSummary {
  return {
    job: start.job.name,
    runId: start.runId,
    dryRun: start.dryRun,
    startedAt: start.started.toISOString(),
    durationMs: Date.now() - start.started.getTime(),
    counts: {},
    errorGroups: [],
    pagesDone: 0,
    usersSoFar: 0,
    totalCount: undefined,
    cycleComplete: false,
    stopReason: undefined,
    fatalError: describeError(error),
    failure: error === undefined ? undefined : describeFailure(error),
    deleteMode: start.job.actions.delete,
    exitCode: error instanceof ActionableError ? error.exitCode : ExitCode.failed,
  };
}

export function exitCodeOf(all: readonly JobRunSummary[]): number {
  // A job skipped because another run holds it is that run's to report.
  const summaries = all.filter((summary) => summary.skippedBecause === undefined);
  const fatal = summaries.find((summary) => summary.fatalError !== undefined);
  if (fatal) return fatal.exitCode ?? ExitCode.failed;
  if (summaries.some((summary) => summary.removals?.held || (summary.heldAdoptions?.length ?? 0) > 0))
    return ExitCode.deletesHeld;
  if (summaries.some((summary) => (summary.counts.failed ?? 0) > 0)) return ExitCode.partial;
  return ExitCode.ok;
}
