// The end of a complete listing, for full cycles and delta rounds alike: the removal
// rules for the managed users the cycle did not see, and the writes they decide.
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { RemovalOutcome } from '../rules/removals.ts';
import { planRemovals, type RemovalReview, removalSummary } from '../rules/removals.ts';
import type { WordPressUserIndex } from '../rules/user-index.ts';
import { applyRemovals } from './apply-removals.ts';
import type { CycleRun } from './cycle-types.ts';

/** Removals are decided only once the whole listing was read, and only if the job removes anyone. */
export function removalsDue(run: CycleRun): boolean {
  return run.checkpoint.listingDone === true && run.job.removal.mode !== 'none';
}

export interface RemovalCandidates {
  users: Iterable<WordPressUser>;
  /** Lower-case object IDs the cycle saw (a delta round passes none: its candidates are the gone). */
  seen: ReadonlySet<string>;
  /** How many users the job manages on the site, where the candidates are not all of them. */
  managed: number | undefined;
  /** Where applied removals are reflected. */
  index: WordPressUserIndex;
  /** How many users the cycle read; a delta round leaves it out, few changes say nothing about the query. */
  seenCount?: number | undefined;
}

export async function removeUnseen(
  run: CycleRun,
  candidates: RemovalCandidates,
): Promise<RemovalOutcome | undefined> {
  const { job, context } = run;
  const review: RemovalReview = { approved: run.approvals.removals };
  if (candidates.seenCount !== undefined) review.seenCount = candidates.seenCount;
  const plan = planRemovals(candidates.users, candidates.seen, job.removal, candidates.managed, review);
  run.record(
    await applyRemovals(plan.changes, context.writes, candidates.index, {
      concurrency: job.writeConcurrency ?? job.concurrency,
      dryRun: context.dryRun,
    }),
  );
  return removalSummary(plan);
}
