// The compact record of one job's run that the site keeps in its run history (the companion
// plugin's POST entra-wp-sync/v1/runs, shown under Users → Entra ID sync), built from the
// run's summary. Pure: the caller says what started the run and where its page is.
// docs/design.md ("Run history in the site") describes the shape and its bounds.
import type { JobRunSummary } from './run-summary.ts';

/** What started the run, as the history names it. */
export const runTriggers = ['schedule', 'dispatch', 'manual', 'container', 'push', 'other'] as const;
export type RunTrigger = (typeof runTriggers)[number];

export type RunHistoryOutcome = 'ok' | 'partial' | 'held' | 'failed';

export interface RunHistoryRecord {
  job: string;
  runId: string;
  trigger: RunTrigger;
  startedAt: string;
  durationMs: number;
  dryRun: boolean;
  outcome: RunHistoryOutcome;
  counts: Record<string, number>;
  /** Where the job's cycle stands after this run; null for a run of one user, which moves none. */
  cycle: {
    cycleId: string | null;
    kind: 'full' | 'delta';
    page: number;
    usersSoFar: number;
    total: number | null;
    complete: boolean;
  } | null;
  /** Users that could not be synced, by reason, with a few of them. */
  errors: Array<{ reason: string; count: number; examples: Array<{ user: string; message: string }> }>;
  /** Why the job failed: the message and the hint apart. */
  failure: { message: string; hint: string | null; source: string } | null;
  /** Why the run stopped before the end of its cycle (maxRuntime, a signal). */
  stopReason: string | null;
  /** The list this run holds for a person to approve. */
  held: {
    runId: string;
    removals: Array<{ id: number; login: string; upn: string | null }>;
    adoptions: Array<{ objectId: string; wordpressId: number; login: string; upn: string | null }>;
    /** The lists' full lengths: a record carries at most `heldListed` of each. */
    removalsTotal: number;
    adoptionsTotal: number;
  } | null;
  approvedBy: string | null;
  /** The run's page (GitHub Actions), where its logs and artifacts are. */
  url: string | null;
}

/** Bounds that keep a record well under the plugin's 32 KB per record. */
const errorGroupsKept = 20;
const examplesKept = 3;
const reasonLength = 500;
const messageLength = 300;
export const heldListed = 200;

export interface RunRecordContext {
  trigger: RunTrigger;
  url: string | undefined;
}

/**
 * The record of a job's run; undefined for a job another live run held, which did nothing
 * (that run records its own).
 */
export function buildRunRecord(
  summary: JobRunSummary,
  context: RunRecordContext,
): RunHistoryRecord | undefined {
  if (summary.skippedBecause !== undefined) return undefined;
  return {
    job: summary.job,
    runId: summary.runId,
    trigger: context.trigger,
    startedAt: summary.startedAt,
    durationMs: Math.max(0, Math.round(summary.durationMs)),
    dryRun: summary.dryRun,
    outcome: outcomeOf(summary),
    counts: { ...summary.counts },
    cycle:
      summary.singleUser === undefined
        ? {
            cycleId: summary.cycleId ?? null,
            kind: summary.cycleKind ?? 'full',
            page: summary.pagesDone,
            usersSoFar: summary.usersSoFar,
            total: summary.totalCount ?? null,
            complete: summary.cycleComplete,
          }
        : null,
    errors: summary.errorGroups.slice(0, errorGroupsKept).map((group) => ({
      reason: cut(group.reason, reasonLength),
      count: group.count,
      examples: (group.details ?? group.examples.map((user) => ({ user, message: group.reason })))
        .slice(0, examplesKept)
        .map((example) => ({ user: cut(example.user, 200), message: cut(example.message, messageLength) })),
    })),
    failure:
      summary.fatalError === undefined
        ? null
        : {
            message: cut(summary.failure?.message ?? summary.fatalError, reasonLength * 2),
            hint: summary.failure?.hint ? cut(summary.failure.hint, reasonLength * 2) : null,
            source: summary.failure?.source ?? 'other',
          },
    stopReason: summary.stopReason ? cut(summary.stopReason, reasonLength) : null,
    held: heldOf(summary),
    approvedBy: summary.approvedBy ?? null,
    url: context.url ?? null,
  };
}

/** The job's verdict, in the words of the Action's outcome output. */
export function outcomeOf(summary: JobRunSummary): RunHistoryOutcome {
  if (summary.fatalError !== undefined) return 'failed';
  if (summary.removals?.held || (summary.heldAdoptions?.length ?? 0) > 0) return 'held';
  if ((summary.counts.failed ?? 0) > 0) return 'partial';
  return 'ok';
}

function heldOf(summary: JobRunSummary): RunHistoryRecord['held'] {
  const held = summary.held;
  if (!held || outcomeOf(summary) !== 'held') return null;
  const upn = (value: string | undefined) => (value ? value : null);
  return {
    runId: held.runId,
    removals: held.removals
      .slice(0, heldListed)
      .map((user) => ({ id: user.id, login: user.login, upn: upn(user.upn) })),
    adoptions: held.adoptions.slice(0, heldListed).map((pair) => ({
      objectId: pair.objectId,
      wordpressId: pair.wordpressId,
      login: pair.login,
      upn: upn(pair.upn),
    })),
    removalsTotal: held.removals.length,
    adoptionsTotal: held.adoptions.length,
  };
}

/**
 * What started the run. A value the operator set (ENTRA_WP_SYNC_TRIGGER) says it best; in
 * GitHub Actions the workflow's event; elsewhere a terminal means a person ran it.
 */
export function runTriggerOf(where: {
  configured?: RunTrigger | undefined;
  /** In GitHub Actions: the workflow's event (GITHUB_EVENT_NAME). */
  actions?: { eventName: string | undefined } | undefined;
  terminal: boolean;
}): RunTrigger {
  if (where.configured) return where.configured;
  if (where.actions) {
    const { eventName } = where.actions;
    if (eventName === 'schedule') return 'schedule';
    if (eventName === 'workflow_dispatch' || eventName === 'repository_dispatch') return 'dispatch';
    if (eventName === 'push') return 'push';
    return 'other';
  }
  return where.terminal ? 'manual' : 'container';
}

function cut(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
