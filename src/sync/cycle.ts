// One run of one job: read a page → map → match → plan → apply → checkpoint, until the
// listing ends, the run's time is up, or it is asked to stop (SPEC §4.1–4.6).
import { randomUUID } from 'node:crypto';
import type { GraphApi } from '../graph/graph-api.ts';
import { ExpiredPageTokenError, readCollectionPages } from '../graph/paging.ts';
import type { Logger } from '../log/logger.ts';
import type { ProgressReporter } from '../log/progress.ts';
import type { ResultRow } from '../report/result-row.ts';
import type { ResultsWriter } from '../report/results-writer.ts';
import { ErrorGrouper, type JobRunSummary } from '../report/run-summary.ts';
import { type Checkpoint, newCheckpoint, type RunRecord, withRun } from '../state/checkpoint.ts';
import type { StateStore } from '../state/state-store.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import type { UserWrites } from '../wordpress/user-writes.ts';
import { type AppliedChange, applyChanges, reportOnly } from './apply.ts';
import { applyRemovals } from './apply-removals.ts';
import { syncAvatars } from './avatars.ts';
import type { DesiredUser, UnmappedUser } from './desired-user.ts';
import { CycleClaims, type PlanSettings, planChanges } from './plan.ts';
import { planRemovals, type RemovalSettings } from './removals.ts';
import type { WordPressUserIndex } from './user-index.ts';

export type EntraUser = Record<string, unknown> & { id: string };

export interface CycleJob {
  name: string;
  /** First request of each listing read in turn: /users?… or one per source group. */
  listings: string[];
  eventualConsistency: boolean;
  plan: PlanSettings;
  concurrency: number;
  /** Users written at once: with batches, the batch size times the batches in flight. */
  writeConcurrency?: number | undefined;
  /** Seconds after which the run stops at the next page boundary. */
  maxRuntimeSeconds: number | undefined;
  mapUser(user: EntraUser): DesiredUser | UnmappedUser;
  removal: RemovalSettings;
  /** Sync Entra photos as avatars, at this Graph photo size. */
  avatarSize: string | undefined;
}

export interface CycleContext {
  runId: string;
  dryRun: boolean;
  graph: GraphApi;
  writes: UserWrites;
  index: WordPressUserIndex;
  store: StateStore;
  results: ResultsWriter;
  logger: Logger;
  signal?: AbortSignal | undefined;
  now?: () => Date;
  progress?: ProgressReporter | undefined;
  /** Needed for avatar uploads (media). */
  wordpress?: WordPressClient | undefined;
}

/** At most this many restarts of a listing whose page token expired, per run. */
const maxListingRestarts = 2;

export async function runCycle(job: CycleJob, context: CycleContext): Promise<JobRunSummary> {
  const now = context.now ?? (() => new Date());
  const started = now();
  const deadline =
    job.maxRuntimeSeconds === undefined ? undefined : started.getTime() + job.maxRuntimeSeconds * 1000;
  const saved = await context.store.load(job.name);
  // A preview always shows a whole cycle and never moves the saved one.
  const checkpoint: Checkpoint =
    saved && !context.dryRun ? saved : newCheckpoint(job.name, randomUUID(), started);
  const counts: Record<string, number> = {};
  const errors = new ErrorGrouper();
  const claims = new CycleClaims();
  /** Writes the rows of these decisions and counts them for the run and the cycle. */
  const record = (applied: readonly AppliedChange[]) => {
    const rows = applied.map((change) => toRow(change, job.name, context, now()));
    context.results.write(rows);
    for (const row of rows) {
      counts[row.action] = (counts[row.action] ?? 0) + 1;
      checkpoint.counters[row.action] = (checkpoint.counters[row.action] ?? 0) + 1;
      if (row.action === 'failed') errors.add(row);
    }
  };
  const seen = new Set(checkpoint.seen);
  let stopReason: string | undefined;
  let restarts = 0;
  let cycleComplete = false;

  let listingIndex = checkpoint.listingIndex ?? 0;
  let link = checkpoint.nextLink ?? job.listings[listingIndex]!;
  listing: while (!checkpoint.listingDone) {
    try {
      for await (const page of readCollectionPages<EntraUser>(context.graph, link, {
        eventualConsistency: job.eventualConsistency,
        startPageNumber: checkpoint.pagesDone + 1,
      })) {
        if (page.count !== undefined && listingIndex === 0) checkpoint.totalCount = page.count;
        // Group listings hold nested groups too; a user in two source groups, or read
        // again after a restarted listing, is planned once per cycle.
        const fresh = page.items.filter((item) => isUserItem(item) && !seen.has(item.id));
        const mapped = fresh.map((user) => job.mapUser(user));
        const desired = mapped.filter((user): user is DesiredUser => 'login' in user);
        const unmapped = mapped.filter((user): user is UnmappedUser => 'outcome' in user);
        const changes = planChanges({ desired, unmapped, index: context.index, settings: job.plan, claims });
        const applied = context.dryRun
          ? changes.map(reportOnly)
          : await applyChanges(changes, context.writes, context.index, {
              concurrency: job.writeConcurrency ?? job.concurrency,
            });
        record(applied);
        if (job.avatarSize && context.wordpress && !context.dryRun) {
          const avatars = await syncAvatars(
            desired.flatMap((person) => {
              const user = context.index.byObjectId(person.objectId)[0];
              return user ? [{ objectId: person.objectId, user }] : [];
            }),
            { ...context, wordpress: context.wordpress, size: job.avatarSize, concurrency: job.concurrency },
          );
          if (avatars.uploaded > 0) counts.avatars = (counts.avatars ?? 0) + avatars.uploaded;
        }
        for (const user of desired) seen.add(user.objectId);
        for (const user of unmapped) if (user.outcome === 'error') seen.add(user.objectId);
        checkpoint.counters.read = (checkpoint.counters.read ?? 0) + fresh.length;
        checkpoint.pagesDone = page.pageNumber;
        checkpoint.nextLink = page.nextLink;
        if (page.nextLink === undefined) {
          if (listingIndex + 1 < job.listings.length) listingIndex++;
          else checkpoint.listingDone = true;
        }
        checkpoint.listingIndex = listingIndex;
        checkpoint.seen = [...seen];
        checkpoint.updatedAt = now().toISOString();
        if (!context.dryRun) await context.store.save(checkpoint);
        context.progress?.update({
          job: job.name,
          page: page.pageNumber,
          read: checkpoint.counters.read ?? 0,
          total: checkpoint.totalCount,
          written: writtenIn(counts),
          failed: counts.failed ?? 0,
        });
        if (checkpoint.listingDone) break listing;
        if (context.signal?.aborted) {
          stopReason = 'asked to stop; the next run continues from the saved page';
          break listing;
        }
        if (deadline !== undefined && now().getTime() >= deadline) {
          stopReason = `limits.maxRuntime (${job.maxRuntimeSeconds} s) reached; the next run continues from page ${page.pageNumber + 1}`;
          break listing;
        }
        if (page.nextLink === undefined) break;
      }
      link = job.listings[listingIndex]!;
    } catch (error) {
      if (!(error instanceof ExpiredPageTokenError) || restarts >= maxListingRestarts) throw error;
      restarts++;
      context.logger.warn(`${job.name}: ${error.message}`, { job: job.name, event: 'listing-restart' });
      link = job.listings[listingIndex]!;
    }
  }

  cycleComplete = checkpoint.listingDone === true;
  let removals: JobRunSummary['removals'];
  if (cycleComplete && job.removal.mode !== 'none') {
    removals = await removeUnseen(job, context, seen, record);
  }

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
    stopReason,
    fatalError: undefined,
    removals,
    deleteMode: job.removal.mode,
  };
  if (!context.dryRun) {
    const record: RunRecord = {
      runId: context.runId,
      startedAt: started.toISOString(),
      durationMs: summary.durationMs,
      outcome: removals?.held ? 'held' : cycleComplete ? 'cycle complete' : 'continues',
      counts,
    };
    if (cycleComplete) {
      // The next run starts a new cycle; deletions for this one were decided above (§4.7).
      const next = newCheckpoint(job.name, randomUUID(), now());
      next.deltaLink = checkpoint.deltaLink;
      next.history = withRun(checkpoint.history, record);
      await context.store.save(next);
    } else {
      checkpoint.history = withRun(checkpoint.history, record);
      await context.store.save(checkpoint);
    }
  }
  return summary;
}

/** A run that fails mid-cycle is remembered too, with the cycle left where it was. */
export async function recordFailedRun(
  store: StateStore,
  job: string,
  runId: string,
  started: Date,
  counts: Record<string, number>,
): Promise<void> {
  const checkpoint = await store.load(job).catch(() => undefined);
  if (!checkpoint) return;
  checkpoint.history = withRun(checkpoint.history, {
    runId,
    startedAt: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    outcome: 'failed',
    counts,
  });
  await store.save(checkpoint).catch(() => undefined);
}

async function removeUnseen(
  job: CycleJob,
  context: CycleContext,
  seen: ReadonlySet<string>,
  record: (applied: readonly AppliedChange[]) => void,
): Promise<JobRunSummary['removals']> {
  const seenIds = new Set([...seen].map((id) => id.toLowerCase()));
  const plan = planRemovals(context.index.users(), seenIds, job.removal);
  const applied = await applyRemovals(plan.changes, context.writes, context.index, {
    concurrency: job.writeConcurrency ?? job.concurrency,
    dryRun: context.dryRun,
  });
  record(applied);
  return {
    wanted: plan.removalCount,
    limit: plan.limit,
    managed: plan.managedCount,
    held: plan.held,
    heldUsers: plan.held
      ? plan.changes.filter((change) => change.action === 'held').map((change) => change.user.username)
      : [],
  };
}

const writeActions = ['created', 'updated', 'restored', 'disabled', 'deleted'];

function writtenIn(counts: Record<string, number>): number {
  return writeActions.reduce((sum, action) => sum + (counts[action] ?? 0), 0);
}

function isUserItem(item: EntraUser): boolean {
  const type = item['@odata.type'];
  return type === undefined || type === '#microsoft.graph.user';
}

function toRow(change: AppliedChange, job: string, context: CycleContext, time: Date): ResultRow {
  return {
    time: time.toISOString(),
    runId: context.runId,
    job,
    action: change.action,
    mode: context.dryRun ? 'planned' : change.action === 'failed' ? 'failed' : 'applied',
    objectId: change.subject.objectId,
    userPrincipalName: change.subject.userPrincipalName,
    email: change.subject.email,
    wordpressId: change.subject.wordpressId ?? '',
    wordpressLogin: change.subject.wordpressLogin ?? '',
    fields: change.fields.join(' '),
    message: change.message,
  };
}
