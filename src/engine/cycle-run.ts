// The bookkeeping one run keeps while its listing is read: result rows and counts, the
// checkpoint saved after each page, progress, the stop conditions and the adoptions held.

import { ErrorGrouper } from '../report/run-summary.ts';
import type { HeldDecisions, ResolvedApprovals } from '../rules/approvals.ts';
import { CycleClaims } from '../rules/claims.ts';
import type { Checkpoint } from '../state/checkpoint.ts';
import type { CycleContext, CycleJob, CycleRun } from './cycle-types.ts';
import { toResultRow, writtenIn } from './result-rows.ts';

export interface CycleRunStart {
  job: CycleJob;
  context: CycleContext;
  checkpoint: Checkpoint;
  now: () => Date;
  started: Date;
  managingSince: Date | undefined;
  approvals: ResolvedApprovals;
}

/** The run, plus what it gathers for the summary as pages are recorded. */
export interface CycleRunRecords {
  run: CycleRun;
  /** With the Entra user's UPN, for the site's run history. */
  heldAdoptions: HeldAdoptions;
  errors: ErrorGrouper;
}

type HeldAdoptions = Array<HeldDecisions['adoptions'][number] & { upn?: string | undefined }>;

export function startCycleRun(start: CycleRunStart): CycleRunRecords {
  const { job, context, now } = start;
  const deadline =
    job.maxRuntimeSeconds === undefined ? undefined : start.started.getTime() + job.maxRuntimeSeconds * 1000;
  const heldAdoptions: HeldAdoptions = [];
  const errors = new ErrorGrouper();
  const counts: Record<string, number> = {};
  const rowOf = { runId: context.runId, job: job.name, dryRun: context.dryRun };
  const run: CycleRun = {
    job,
    context,
    checkpoint: start.checkpoint,
    claims: new CycleClaims(),
    counts,
    now,
    managingSince: start.managingSince,
    approvals: start.approvals,
    record(applied) {
      const rows = applied.map((change) => toResultRow(change, rowOf, now()));
      context.results.write(rows);
      for (const change of applied) {
        if (change.hold === 'adoption' && change.subject.wordpressId !== undefined) {
          heldAdoptions.push({
            objectId: change.subject.objectId,
            wordpressId: change.subject.wordpressId,
            login: change.subject.wordpressLogin ?? '',
            upn: change.subject.userPrincipalName || undefined,
          });
        }
      }
      for (const row of rows) {
        counts[row.action] = (counts[row.action] ?? 0) + 1;
        run.checkpoint.counters[row.action] = (run.checkpoint.counters[row.action] ?? 0) + 1;
        if (row.action === 'failed') errors.add(row);
      }
    },
    async pageDone(pageNumber) {
      context.afterPage?.();
      run.checkpoint.updatedAt = now().toISOString();
      if (!context.dryRun) await context.store.save(run.checkpoint);
      context.progress?.update({
        job: job.name,
        page: pageNumber,
        read: run.checkpoint.counters.read ?? 0,
        total: run.checkpoint.totalCount,
        written: writtenIn(counts),
        failed: counts.failed ?? 0,
      });
    },
    stopReason(pageNumber) {
      if (context.signal?.aborted) return 'asked to stop; the next run continues from the saved page';
      if (deadline !== undefined && now().getTime() >= deadline)
        return `limits.maxRuntime (${job.maxRuntimeSeconds} s) reached; the next run continues from page ${pageNumber + 1}`;
      return undefined;
    },
  };
  return { run, heldAdoptions, errors };
}
