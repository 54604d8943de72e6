// Where a run starts in its job's cycle and what it leaves for the next: the saved cycle
// continued or a fresh one, the next cycle after a complete one, the held list to approve.
import { randomUUID } from 'node:crypto';
import type { HeldDecisions } from '../rules/approvals.ts';
import type { RemovalOutcome } from '../rules/removals.ts';
import {
  type Checkpoint,
  managingSinceOf,
  newCheckpoint,
  type RunRecord,
  withRun,
} from '../state/checkpoint.ts';
import type { StateStore } from '../state/state-store.ts';
import type { CycleContext, CycleJob, ListingOutcome } from './cycle-types.ts';

/**
 * The saved cycle to continue, or a new one. A preview never moves the saved cycle: it
 * shows a whole cycle, or in delta mode the changes the next run would read.
 */
export function startingCheckpoint(
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
 * What a complete cycle leaves: a new cycle, which keeps when the job began managing the
 * site, the delta link and (in delta mode) what the next round must read again.
 */
export function nextCycle(
  job: CycleJob,
  finished: Checkpoint,
  at: Date,
  outcome: ListingOutcome,
  record: RunRecord,
  held: HeldDecisions | undefined,
): Checkpoint {
  const next = newCheckpoint(job.name, randomUUID(), at);
  next.managingSince = managingSinceOf(finished);
  next.listingSource = finished.listingSource;
  next.deltaLink = job.delta ? (finished.nextDeltaLink ?? finished.deltaLink) : undefined;
  if (job.delta) {
    next.recheck = finished.recheck ?? [];
    // Held removals wait for approval; the next round plans them again.
    next.gone = outcome.removals?.held ? (finished.gone ?? []) : [];
    next.roleMembers = membershipRecord(job.roleMembers);
  }
  next.history = withRun(finished.history, record);
  if (held) next.held = held;
  return next;
}

/**
 * The list a person approves next: what this run held, joined to what earlier runs of the
 * same cycle held (their pages are not read again before the cycle ends). Undefined when
 * this run held nothing and nothing of its cycle is waiting.
 */
export function heldThisRun(
  runId: string,
  at: Date,
  checkpoint: Checkpoint,
  adoptions: HeldDecisions['adoptions'],
  removals: RemovalOutcome | undefined,
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

function atCycleStart(checkpoint: Checkpoint): boolean {
  return checkpoint.pagesDone === 0 && !checkpoint.listingDone && checkpoint.nextLink === undefined;
}

/** Stamps a cycle that has not read anything yet with its kind and what it started from. */
export function freshCycle(
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
