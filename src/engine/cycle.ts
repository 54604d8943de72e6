// One run of one job: a full cycle over every Entra user, or in delta mode a round of
// only the changes since the last one. Pages are checkpointed, so a
// stopped run resumes where it was; a cycle ends with the removal rules.
import { randomUUID } from 'node:crypto';
import type { GraphApi } from '../graph/graph-api.ts';
import { ExpiredDeltaLinkError } from '../graph/paging.ts';
import type { Logger } from '../log/logger.ts';
import type { ProgressReporter } from '../log/progress.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { ResultRow } from '../report/result-row.ts';
import type { ResultsWriter } from '../report/results-writer.ts';
import { ErrorGrouper, type JobRunSummary } from '../report/run-summary.ts';
import {
  type ApprovalRequest,
  type HeldDecisions,
  type ResolvedApprovals,
  resolveApprovals,
} from '../rules/approvals.ts';
import type { DesiredUser, UnmappedUser } from '../rules/desired-user.ts';
import { CycleClaims, type PlanSettings } from '../rules/plan.ts';
import type { RemovalSettings } from '../rules/removals.ts';
import {
  type Checkpoint,
  managingSinceOf,
  newCheckpoint,
  type RunRecord,
  withRun,
} from '../state/checkpoint.ts';
import type { StateStore } from '../state/state-store.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import type { UserLookup, UserLookupKeys } from '../wordpress/user-lookup.ts';
import type { UserWrites } from '../wordpress/user-writes.ts';
import type { AppliedChange } from './apply.ts';
import { readDeltaRound } from './delta-round.ts';
import { readFullListing } from './full-cycle.ts';

export type EntraUser = Record<string, unknown> & { id: string };

export interface CycleJob {
  name: string;
  /** First request of each listing read in turn: /users?… or one per source group. */
  listings: string[];
  eventualConsistency: boolean;
  /** Delta mode: listings is the initial /users/delta round; later runs read only changes. */
  delta: boolean;
  /** Delta mode: the request that reads these users' current state (at most 50). */
  usersByIdPath?: ((ids: readonly string[]) => string) | undefined;
  /** Members of each role-rule group, by group ID (lower-case object IDs). */
  roleMembers?: Record<string, ReadonlySet<string>> | undefined;
  plan: PlanSettings;
  concurrency: number;
  /** Users written at once: with batches, the batch size times the batches in flight. */
  writeConcurrency?: number | undefined;
  /** Sites with more users than this are matched page by page instead of from a loaded index. */
  fullIndexLimit?: number | undefined;
  /** Seconds after which the run stops at the next page boundary. */
  maxRuntimeSeconds: number | undefined;
  mapUser(user: EntraUser): DesiredUser | UnmappedUser;
  removal: RemovalSettings;
  /** Sync Entra photos as avatars, at this Graph photo size. */
  avatarSize: string | undefined;
}

/** The site's users: all of them, or (with the companion plugin) only the ones asked for. */
export interface SiteUsers {
  all(): Promise<WordPressUser[]>;
  /** How many users the site has. */
  count(): Promise<number>;
  /** Every user page by page, none kept: how big sites are scanned for removals. */
  scan(visit: (users: readonly WordPressUser[]) => void): Promise<void>;
  /** Undefined where the site cannot look users up; delta rounds then read everyone. */
  find: ((keys: UserLookupKeys) => Promise<UserLookup>) | undefined;
}

export interface CycleContext {
  runId: string;
  dryRun: boolean;
  graph: GraphApi;
  writes: UserWrites;
  users: SiteUsers;
  store: StateStore;
  results: ResultsWriter;
  logger: Logger;
  signal?: AbortSignal | undefined;
  now?: () => Date;
  progress?: ProgressReporter | undefined;
  /** Needed for avatar uploads (media). */
  wordpress?: WordPressClient | undefined;
  /** Called after each page, once its users are settled (the run keeps memory in check). */
  afterPage?: (() => void) | undefined;
  /**
   * sync-user keeps no checkpoint of its own: when the job began managing the site, from the
   * job's checkpoint, or null when the job has none (then no email or login adoption is proven).
   */
  managingSince?: Date | null | undefined;
  /** What a person approved for this run (bound to the last held list). */
  approval?: ApprovalRequest | undefined;
}

/** What the full listing and the delta round share: the run's state and bookkeeping. */
export interface CycleRun {
  job: CycleJob;
  context: CycleContext;
  checkpoint: Checkpoint;
  claims: CycleClaims;
  counts: Record<string, number>;
  now(): Date;
  /** Writes the rows of these decisions and counts them for the run and the cycle. */
  record(applied: readonly AppliedChange[]): void;
  /** Saves the checkpoint (not in a preview) and reports progress after a page. */
  pageDone(pageNumber: number): Promise<void>;
  /** Why the run should stop after this page, if it should. */
  stopReason(pageNumber: number): string | undefined;
  /** When the job began managing the site (adoptions by email or login are judged by it). */
  managingSince: Date | undefined;
  /** The approvals of this run, checked against the last held list. */
  approvals: ResolvedApprovals;
}

export interface ListingOutcome {
  stopReason: string | undefined;
  removals: JobRunSummary['removals'];
}

export async function runCycle(job: CycleJob, context: CycleContext): Promise<JobRunSummary> {
  const now = context.now ?? (() => new Date());
  const started = now();
  const deadline =
    job.maxRuntimeSeconds === undefined ? undefined : started.getTime() + job.maxRuntimeSeconds * 1000;
  const saved = await context.store.load(job.name);
  let checkpoint = startingCheckpoint(job, context, saved, started);
  checkpoint.managingSince ??= managingSinceOf(checkpoint);
  const managingSince =
    context.managingSince === undefined
      ? new Date(checkpoint.managingSince)
      : (context.managingSince ?? undefined);
  const counts: Record<string, number> = {};
  const approvals = resolveApprovals(context.approval, saved?.held);
  const heldAdoptions: HeldDecisions['adoptions'] = [];
  const errors = new ErrorGrouper();
  const run: CycleRun = {
    job,
    context,
    checkpoint,
    claims: new CycleClaims(),
    counts,
    now,
    managingSince,
    approvals,
    record(applied) {
      const rows = applied.map((change) => toRow(change, job.name, context, now()));
      context.results.write(rows);
      for (const change of applied) {
        if (change.hold === 'adoption' && change.subject.wordpressId !== undefined) {
          heldAdoptions.push({
            objectId: change.subject.objectId,
            wordpressId: change.subject.wordpressId,
            login: change.subject.wordpressLogin ?? '',
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
    approvalNotes: approvals.notes,
    approvedBy: approvedByOf(counts, approvals),
  };
  if (!context.dryRun) {
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
      const next = newCheckpoint(job.name, randomUUID(), now());
      next.managingSince = managingSinceOf(checkpoint);
      next.listingSource = checkpoint.listingSource;
      next.deltaLink = job.delta ? (checkpoint.nextDeltaLink ?? checkpoint.deltaLink) : undefined;
      if (job.delta) {
        next.recheck = checkpoint.recheck ?? [];
        // Held removals wait for approval; the next round plans them again.
        next.gone = outcome.removals?.held ? (checkpoint.gone ?? []) : [];
        next.roleMembers = membershipRecord(job.roleMembers);
      }
      next.history = withRun(checkpoint.history, record);
      // A complete cycle's holds are the list to approve; with none, nothing waits.
      const held = heldThisRun(context.runId, now(), checkpoint, heldAdoptions, outcome.removals);
      if (held) next.held = held;
      await context.store.save(next);
    } else {
      checkpoint.history = withRun(checkpoint.history, record);
      // Holds of earlier runs of this cycle stay approvable until the cycle completes.
      const held = heldThisRun(context.runId, now(), checkpoint, heldAdoptions, outcome.removals);
      if (held) checkpoint.held = held;
      await context.store.save(checkpoint);
    }
  }
  return summary;
}

/**
 * The saved cycle to continue, or a new one. A preview never moves the saved cycle: it
 * shows a whole cycle, or in delta mode the changes the next run would read.
 */
function startingCheckpoint(
  job: CycleJob,
  context: CycleContext,
  saved: Checkpoint | undefined,
  started: Date,
): Checkpoint {
  const source = job.listings.join('\n');
  if (context.dryRun) {
    if (job.delta && saved?.deltaLink && saved.listingSource === source && atCycleStart(saved)) {
      return freshCycle(job, structuredClone(saved), started, 'delta');
    }
    const preview = freshCycle(job, newCheckpoint(job.name, randomUUID(), started), started, 'full');
    if (saved) preview.managingSince = managingSinceOf(saved);
    return preview;
  }
  if (!saved) return freshCycle(job, newCheckpoint(job.name, randomUUID(), started), started, 'full');
  if (saved.listingSource !== undefined && saved.listingSource !== source) {
    context.logger.warn(
      `${job.name}: the job's source changed since the saved cycle started; a new full cycle starts`,
      { job: job.name, event: 'source-changed' },
    );
    const fresh = freshCycle(job, newCheckpoint(job.name, randomUUID(), started), started, 'full');
    fresh.history = saved.history;
    fresh.managingSince = managingSinceOf(saved);
    return fresh;
  }
  if (!atCycleStart(saved) || saved.mode !== undefined) return saved;
  return freshCycle(job, saved, started, job.delta && saved.deltaLink ? 'delta' : 'full');
}

/**
 * The list a person approves next: what this run held, joined to what earlier runs of the
 * same cycle held (their pages are not read again before the cycle ends). Undefined when
 * this run held nothing and nothing of its cycle is waiting.
 */
function heldThisRun(
  runId: string,
  at: Date,
  checkpoint: Checkpoint,
  adoptions: HeldDecisions['adoptions'],
  removals: JobRunSummary['removals'],
): HeldDecisions | undefined {
  const earlier = checkpoint.held?.cycleId === checkpoint.cycleId ? checkpoint.held : undefined;
  const heldRemovals = removals?.held ? (removals.heldIds ?? []) : [];
  if (adoptions.length === 0 && heldRemovals.length === 0) return earlier;
  const pairs = new Map((earlier?.adoptions ?? []).map((pair) => [pair.objectId.toLowerCase(), pair]));
  for (const pair of adoptions) pairs.set(pair.objectId.toLowerCase(), pair);
  return {
    runId,
    cycleId: checkpoint.cycleId,
    at: at.toISOString(),
    removals: heldRemovals.length > 0 ? heldRemovals : (earlier?.removals ?? []),
    adoptions: [...pairs.values()].sort((a, b) => a.login.localeCompare(b.login)),
  };
}

/** Who approved what this run applied, when it applied anything approved. */
function approvedByOf(counts: Record<string, number>, approvals: ResolvedApprovals): string | undefined {
  const by = approvals.removals?.by ?? approvals.adoptions?.by;
  return by && writtenIn(counts) > 0 ? by : undefined;
}

function atCycleStart(checkpoint: Checkpoint): boolean {
  return checkpoint.pagesDone === 0 && !checkpoint.listingDone && checkpoint.nextLink === undefined;
}

/** Stamps a cycle that has not read anything yet with its kind and what it started from. */
function freshCycle(
  job: CycleJob,
  checkpoint: Checkpoint,
  started: Date,
  mode: 'full' | 'delta',
): Checkpoint {
  checkpoint.mode = mode;
  checkpoint.listingSource = job.listings.join('\n');
  checkpoint.cycleStartedAt = started.toISOString();
  if (mode === 'full') {
    checkpoint.nextLink = undefined;
    checkpoint.listingIndex = 0;
    checkpoint.listingDone = false;
    checkpoint.pagesDone = 0;
    checkpoint.seen = [];
    checkpoint.counters = {};
    checkpoint.totalCount = undefined;
    checkpoint.gone = [];
    checkpoint.recheck = [];
    // Role changes during a long cycle are caught by the first delta round after it.
    if (job.delta) checkpoint.roleMembers = membershipRecord(job.roleMembers);
  }
  return checkpoint;
}

function membershipRecord(
  members: Record<string, ReadonlySet<string>> | undefined,
): Record<string, string[]> | undefined {
  if (!members) return undefined;
  return Object.fromEntries(Object.entries(members).map(([group, ids]) => [group, [...ids]]));
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

const writeActions = ['created', 'adopted', 'updated', 'restored', 'disabled', 'deleted'];

/** How many rows of these action counts wrote to WordPress. */
export function writtenIn(counts: Record<string, number>): number {
  return writeActions.reduce((sum, action) => sum + (counts[action] ?? 0), 0);
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
