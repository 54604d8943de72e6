// Where a job's cycle stands, saved after every page so a stopped run resumes there.
import type { HeldDecisions } from '../rules/approvals.ts';

/** One run of a job, kept for `state show`. */
export interface RunRecord {
  runId: string;
  startedAt: string;
  durationMs: number;
  outcome: 'cycle complete' | 'continues' | 'held' | 'failed';
  counts: Record<string, number>;
}

/** How many past runs a checkpoint remembers. */
export const runHistoryLength = 20;

export function withRun(history: readonly RunRecord[] | undefined, record: RunRecord): RunRecord[] {
  return [...(history ?? []), record].slice(-runHistoryLength);
}

export interface Checkpoint {
  version: 1;
  job: string;
  /** Identifies one pass over every Entra user; deletions need a whole one. */
  cycleId: string;
  cycleStartedAt: string;
  /** Graph link of the next page to read; undefined before the first page. */
  nextLink: string | undefined;
  /** Which of the job's listings (one per source group) is being read. */
  listingIndex?: number;
  /** Every page of every listing was read: only the cycle's removals remain. */
  listingDone?: boolean;
  /** Pages completed in this cycle. */
  pagesDone: number;
  /** @odata.count from the first page, when Graph gave one. */
  totalCount: number | undefined;
  /** Entra object IDs seen (read without error) in this cycle. */
  seen: string[];
  /** Decisions taken in this cycle, by action. */
  counters: Record<string, number>;
  /** Whether any page of this cycle failed to read; no deletions then. */
  readErrors: number;
  /** The last runs of this job, carried from cycle to cycle. */
  history?: RunRecord[];
  /** Delta mode: where the next round of changes starts (set when a cycle completes). */
  deltaLink?: string | undefined;
  /** Whether this cycle reads every user or only the changes since deltaLink. */
  mode?: 'full' | 'delta';
  /** The job's listings when this cycle started; another source starts a new cycle. */
  listingSource?: string;
  /** The delta link the current cycle ended its listing with; deltaLink once it completes. */
  nextDeltaLink?: string | undefined;
  /** Delta mode: object IDs removed from Entra or out of scope, awaiting the removal rules. */
  gone?: string[];
  /** Delta mode: object IDs to read again at the next round (they failed, or their groups changed). */
  recheck?: string[];
  /** Delta mode: role-rule group members by group ID when the last cycle started or round ended. */
  roleMembers?: Record<string, string[]>;
  /**
   * When the job's first cycle started: it began managing the site. An existing account is
   * adopted by email or login without approval only if it had them since before then.
   * Carried from cycle to cycle and kept by `state reset`.
   */
  managingSince?: string;
  /** What the last run that held something back held, for a person to approve exactly that. */
  held?: HeldDecisions;
  updatedAt: string;
}

export function newCheckpoint(job: string, cycleId: string, now: Date): Checkpoint {
  return {
    version: 1,
    job,
    cycleId,
    cycleStartedAt: now.toISOString(),
    nextLink: undefined,
    pagesDone: 0,
    totalCount: undefined,
    seen: [],
    counters: {},
    readErrors: 0,
    managingSince: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** When the job began managing the site; checkpoints saved before this was kept give their oldest run. */
export function managingSinceOf(checkpoint: Checkpoint): string {
  return checkpoint.managingSince ?? checkpoint.history?.[0]?.startedAt ?? checkpoint.cycleStartedAt;
}

/**
 * Whether a loaded value has the checkpoint's shape, field by field: a damaged file must
 * be refused before the run writes anything, not fail halfway through it (a null
 * `counters` once did, after a page of writes).
 */
export function isCheckpoint(value: unknown): value is Checkpoint {
  if (!isRecord(value)) return false;
  const c = value as Record<keyof Checkpoint, unknown>;
  return (
    c.version === 1 &&
    typeof c.job === 'string' &&
    typeof c.cycleId === 'string' &&
    isCount(c.pagesDone) &&
    isStringList(c.seen) &&
    isRecordLike(c.counters) &&
    Object.values(c.counters).every((count) => typeof count === 'number') &&
    optional(c.nextLink, isString) &&
    optional(c.listingIndex, isCount) &&
    optional(c.listingDone, (flag) => typeof flag === 'boolean') &&
    optional(c.totalCount, (total) => typeof total === 'number') &&
    optional(c.readErrors, isCount) &&
    optional(c.history, Array.isArray) &&
    optional(c.deltaLink, isString) &&
    optional(c.nextDeltaLink, isString) &&
    optional(c.listingSource, isString) &&
    optional(c.mode, (mode) => mode === 'full' || mode === 'delta') &&
    optional(c.gone, isStringList) &&
    optional(c.recheck, isStringList) &&
    optional(
      c.roleMembers,
      (members) => isRecordLike(members) && Object.values(members).every(isStringList),
    ) &&
    optional(c.managingSince, (since) => typeof since === 'string' && !Number.isNaN(Date.parse(since))) &&
    optional(c.held, isHeldDecisions)
  );
}

function isHeldDecisions(value: unknown): boolean {
  if (!isRecord(value)) return false;
  return (
    typeof value.runId === 'string' &&
    typeof value.cycleId === 'string' &&
    Array.isArray(value.removals) &&
    value.removals.every((user) => isRecord(user) && isCount(user.id) && typeof user.login === 'string') &&
    Array.isArray(value.adoptions) &&
    value.adoptions.every(
      (pair) => isRecord(pair) && typeof pair.objectId === 'string' && isCount(pair.wordpressId),
    )
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PHP hands an empty JSON object back as [] (the WordPress state backend). */
function isRecordLike(value: unknown): value is Record<string, unknown> {
  return isRecord(value) || (Array.isArray(value) && value.length === 0);
}

const isString = (value: unknown): boolean => typeof value === 'string';
const isCount = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 0;

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.every(isString);
}

function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || check(value);
}
