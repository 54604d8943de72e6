// One run of one job: a full cycle over every Entra user, or in delta mode a round of
// only the changes since the last one. Pages are checkpointed, so a stopped run resumes
// where it was; a cycle ends with the removal rules (docs/design.md, "The cycle").
import { ExpiredDeltaLinkError } from '../graph/paging.ts';
import type { HeldForApproval, JobRunSummary } from '../report/run-summary.ts';
import {
  type HeldDecisions,
  type ResolvedApprovals,
  resolveApprovals,
  siteApprovalHeldAgain,
} from '../rules/approvals.ts';
import { managingSinceOf, type RunRecord, withRun } from '../state/checkpoint.ts';
import { freshCycle, heldThisRun, nextCycle, startingCheckpoint } from './cycle-checkpoint.ts';
import { startCycleRun } from './cycle-run.ts';
import type { CycleContext, CycleJob, ListingOutcome } from './cycle-types.ts';
import { readDeltaRound } from './delta-round.ts';
import { readFullListing } from './full-cycle.ts';
import { writtenIn } from './result-rows.ts';

export async function runCycle(job: CycleJob, context: CycleContext): Promise<JobRunSummary> {
  const now = context.now ?? (() => new Date());
  const started = now();
  const saved = await context.store.load(job.name);
  let checkpoint = startingCheckpoint(job, context, saved, started);
  checkpoint.managingSince ??= managingSinceOf(checkpoint);
  const managingSince =
    context.managingSince === undefined
      ? new Date(checkpoint.managingSince)
      : (context.managingSince ?? undefined);
  const approvals = resolveApprovals(context.approval, saved?.held);
  const { run, heldAdoptions, errors } = startCycleRun({
    job,
    context,
    checkpoint,
    now,
    started,
    managingSince,
    approvals,
  });
  const { counts } = run;

  let outcome: ListingOutcome;
  if (checkpoint.mode === 'delta') {
    try {
      outcome = await readDeltaRound(run);
    } catch (error) {
      if (!(error instanceof ExpiredDeltaLinkError)) throw error;
      context.logger.warn(`${job.name}: ${error.message}`, { job: job.name, event: 'delta-expired' });
      checkpoint = freshCycle(job, checkpoint, now(), 'full');
      checkpoint.deltaLink = undefined;
      run.checkpoint = checkpoint;
      outcome = await readFullListing(run);
    }
  } else {
    outcome = await readFullListing(run);
  }

  const cycleComplete = checkpoint.listingDone === true && outcome.stopReason === undefined;
  const summary: JobRunSummary = {
    job: job.name,
    runId: context.runId,
    dryRun: context.dryRun,
    startedAt: started.toISOString(),
    durationMs: now().getTime() - started.getTime(),
    counts,
    errorGroups: errors.groups(),
    pagesDone: checkpoint.pagesDone,
    usersSoFar: checkpoint.counters.read ?? 0,
    totalCount: checkpoint.totalCount,
    cycleComplete,
    cycleKind: checkpoint.mode === 'delta' ? 'delta' : 'full',
    stopReason: outcome.stopReason,
    fatalError: undefined,
    removals: outcome.removals,
    deleteMode: job.removal.mode,
    heldAdoptions: heldAdoptions.map((pair) => pair.login).sort(),
    approvalNotes: [
      ...approvals.notes,
      ...siteApprovalHeldAgain(approvals, {
        unapprovedRemovals: outcome.removals?.unapproved ?? [],
        heldAdoptions: heldAdoptions.map((pair) => pair.login).sort(),
      }),
    ],
    approvedBy: approvedByOf(counts, approvals),
    cycleId: checkpoint.cycleId,
  };
  // A complete cycle's holds are the list to approve; holds of earlier runs of an
  // unfinished cycle stay approvable until it completes.
  const held = heldThisRun(context.runId, now(), checkpoint, heldAdoptions, outcome.removals);
  summary.held = held && forApproval(held, heldAdoptions);
  if (context.dryRun) return summary;
  const record: RunRecord = {
    runId: context.runId,
    startedAt: started.toISOString(),
    durationMs: summary.durationMs,
    outcome:
      outcome.removals?.held || heldAdoptions.length > 0
        ? 'held'
        : cycleComplete
          ? 'cycle complete'
          : 'continues',
    counts,
  };
  if (cycleComplete) {
    // The next run starts a new cycle; deletions for this one were decided above.
    await context.store.save(nextCycle(job, checkpoint, now(), outcome, record, held));
  } else {
    checkpoint.history = withRun(checkpoint.history, record);
    if (held) checkpoint.held = held;
    await context.store.save(checkpoint);
  }
  return summary;
}

/**
 * The held list with the Entra UPNs of the adoptions this run held (earlier runs' and
 * removals' are not known: a removed user is no longer in Entra).
 */
function forApproval(
  held: HeldDecisions,
  adoptions: ReadonlyArray<{ objectId: string; upn?: string | undefined }>,
): HeldForApproval {
  const adoptionUpns = new Map(adoptions.map((pair) => [pair.objectId.toLowerCase(), pair.upn]));
  return {
    runId: held.runId,
    removals: held.removals,
    adoptions: held.adoptions.map((pair) => ({
      ...pair,
      upn: adoptionUpns.get(pair.objectId.toLowerCase()),
    })),
  };
}

/** Who approved what this run applied, when it applied anything approved. */
function approvedByOf(counts: Record<string, number>, approvals: ResolvedApprovals): string | undefined {
  const by = approvals.removals?.by ?? approvals.adoptions?.by;
  return by && writtenIn(counts) > 0 ? by : undefined;
}
