// The log of a run in the Actions UI: each job's lines folded into a group, a progress
// line per page (counts and rate, as the CLI prints them), and after the group one line
// that stays visible when the group is closed: what the job did and where its cycle stands.
import * as core from '@actions/core';
import { lineProgress, type ProgressLines } from '../log/progress-lines.ts';
import { jobOutcomeLine } from '../report/job-outcome-line.ts';
import type { JobRunSummary } from '../report/run-summary.ts';

export interface JobLog {
  progress: ProgressLines;
  started(job: string): void;
  finished(summary: JobRunSummary): void;
}

/** `intervalMs`: at most one progress line this often (the last page's line always comes). */
export function jobLog(dryRun: boolean, intervalMs: number): JobLog {
  const progress = lineProgress({ format: 'text', intervalMs, write: (line) => core.info(line) });
  return {
    progress,
    started(job) {
      core.startGroup(`${dryRun ? 'Preview of' : 'Sync of'} job ${job}`);
      progress.begin(job);
    },
    finished(summary) {
      progress.stop();
      core.endGroup();
      core.info(jobOutcomeLine(summary));
    },
  };
}
