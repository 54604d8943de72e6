// What the Action says when a run was cancelled: in the log (a warning, so the run page
// shows it), in the step summary and in the outputs. The next run continues from the
// saved checkpoint, so a cancel is reported honestly but not as a failed sync.
import * as core from '@actions/core';
import type { ProgressReporter, ProgressSnapshot } from '../log/progress.ts';
import type { JobRunSummary } from '../report/run-summary.ts';
import { setOutput } from './outputs.ts';
import { stepSummaryAvailable } from './step-summary.ts';

/** Remembers each job's last finished page, for a report written while a page is still in flight. */
export class PageTracker implements ProgressReporter {
  readonly #latest = new Map<string, ProgressSnapshot>();

  update(snapshot: ProgressSnapshot): void {
    this.#latest.set(snapshot.job, snapshot);
  }

  stop(): void {}

  latest(job: string): ProgressSnapshot | undefined {
    return this.#latest.get(job);
  }
}

/** After the run stopped at a page boundary: what each job did, in one line. */
export function cancelledNotice(
  signal: string,
  jobs: readonly string[],
  summaries: readonly JobRunSummary[],
  dryRun: boolean,
): string {
  const parts = jobs.map((job) => {
    const summary = summaries.find((candidate) => candidate.job === job);
    if (!summary) return `${job} did not start`;
    if (summary.fatalError) return `${job} failed (see above)`;
    if (summary.cycleComplete) return `${job} finished its cycle`;
    return `${job} stopped after page ${summary.pagesDone}`;
  });
  const next = dryRun
    ? 'nothing was written (preview)'
    : 'the checkpoint is saved and the lock released; the next run continues';
  return `cancelled (${signal}): ${parts.join(', ')}; ${next}.`;
}

/**
 * The grace period ended with a page still in flight: the process exits now, before the
 * runner's SIGKILL. The checkpoint after the last finished page is saved; the lock is left
 * for the post step, which releases it only for this run.
 */
export async function reportForcedStop(
  signal: string,
  jobs: readonly string[],
  pages: PageTracker,
  dryRun: boolean,
): Promise<void> {
  const finished = jobs.flatMap((job) => {
    const page = pages.latest(job);
    return page ? [`${job} had finished page ${page.page} (${page.read} users read in this cycle)`] : [];
  });
  const parts = finished.length > 0 ? finished.join(', ') : 'no page had finished yet';
  const next = dryRun
    ? 'nothing was written (preview)'
    : "the checkpoint of the last finished page is saved and the next run continues from there (the page in flight is read again); this action's post step releases the run's lock";
  const notice = `cancelled (${signal}): a page was still in flight when the grace period ended; ${parts}; ${next}.`;
  setOutput('complete', false);
  core.warning(notice, { title: 'Run cancelled mid-page, last checkpoint kept' });
  if (stepSummaryAvailable()) {
    await core.summary.addRaw(`## entra-wp-sync: cancelled\n\n${notice}\n`).write();
  }
}
