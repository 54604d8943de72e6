// Where a job's cycle stands, saved after every page so a stopped run resumes there.
//
// The schema is the one definition: the types are inferred from it, so what a load checks
// and what the code relies on cannot drift apart. A damaged checkpoint must be refused before
// the run writes anything, not fail halfway through it (a null `counters` once did, after
// a page of writes).
import { z } from 'zod';
import type { HeldDecisions } from '../rules/approvals.ts';
import { CorruptCheckpointError } from './errors.ts';

/**
 * Keys this version does not know are kept, as they always were: a field of a newer
 * version, or one an older version wrote and this one retired (`readErrors`), survives a
 * load and the saves after it. The type leaves them out, like any extra property.
 */
function keeping<Shape extends z.ZodRawShape>(shape: Shape): z.ZodObject<Shape> {
  return z.looseObject(shape) as unknown as z.ZodObject<Shape>;
}

/** PHP hands an empty JSON object back as [] (the WordPress state backend). */
function mapOf<Value extends z.ZodType>(value: Value) {
  return z.preprocess(
    (given) => (Array.isArray(given) && given.length === 0 ? {} : given),
    z.record(z.string(), value),
  );
}

const count = z.int().nonnegative();
const ids = z.array(z.string());

const runRecordSchema = keeping({
  runId: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  outcome: z.enum(['cycle complete', 'continues', 'held', 'failed']),
  counts: mapOf(z.number()),
});

// The approvals own this type; the schema must produce it, or approving a held list breaks.
const heldSchema = keeping({
  runId: z.string(),
  cycleId: z.string(),
  at: z.string(),
  removals: z.array(keeping({ id: count, login: z.string() })),
  adoptions: z.array(keeping({ objectId: z.string(), wordpressId: count, login: z.string() })),
}) satisfies z.ZodType<HeldDecisions>;

export const checkpointSchema = keeping({
  version: z.literal(1),
  job: z.string(),
  /** Identifies one pass over every Entra user; deletions need a whole one. */
  cycleId: z.string(),
  cycleStartedAt: z.string(),
  /** Graph link of the next page to read; undefined before the first page. */
  nextLink: z.string().optional(),
  /** Pages completed in this cycle. */
  pagesDone: count,
  /** @odata.count from the first page, when Graph gave one. */
  totalCount: z.number().optional(),
  /** Entra object IDs seen (read without error) in this cycle. */
  seen: ids,
  /** Decisions taken in this cycle, by action. */
  counters: mapOf(z.number()),
  updatedAt: z.string(),
  // A checkpoint may lack any field from here on: only delta mode sets deltaLink, and the
  // others came with later versions, so checkpoints saved before them still load.
  /** Delta mode: where the next round of changes starts (set when a cycle completes). */
  deltaLink: z.string().optional(),
  /** Every page of every listing was read: only the cycle's removals remain. */
  listingDone: z.boolean().optional(),
  /** Which of the job's listings (one per source group) is being read. */
  listingIndex: count.optional(),
  /** The last runs of this job, carried from cycle to cycle. */
  history: z.array(runRecordSchema).optional(),
  /** Whether this cycle reads every user or only the changes since deltaLink. */
  mode: z.enum(['full', 'delta']).optional(),
  /** The job's listings when this cycle started; another source starts a new cycle. */
  listingSource: z.string().optional(),
  /** The delta link the current cycle ended its listing with; deltaLink once it completes. */
  nextDeltaLink: z.string().optional(),
  /** Delta mode: object IDs removed from Entra or out of scope, awaiting the removal rules. */
  gone: ids.optional(),
  /** Delta mode: object IDs to read again at the next round (they failed, or their groups changed). */
  recheck: ids.optional(),
  /** Delta mode: role-rule group members by group ID when the last cycle started or round ended. */
  roleMembers: mapOf(ids).optional(),
  /**
   * When the job's first cycle started: it began managing the site. An existing account is
   * adopted by email or login without approval only if it had them since before then.
   * Carried from cycle to cycle and kept by `state reset`.
   */
  managingSince: z
    .string()
    .refine((since) => !Number.isNaN(Date.parse(since)), 'expected a date and time')
    .optional(),
  /** What the last run that held something back held, for a person to approve exactly that. */
  held: heldSchema.optional(),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;

/** One run of a job, kept for `state show`. */
export type RunRecord = z.infer<typeof runRecordSchema>;

/** How many past runs a checkpoint remembers. */
export const runHistoryLength = 20;

export function withRun(history: readonly RunRecord[] | undefined, record: RunRecord): RunRecord[] {
  return [...(history ?? []), record].slice(-runHistoryLength);
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
    managingSince: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** When the job began managing the site; checkpoints saved before this was kept give their oldest run. */
export function managingSinceOf(checkpoint: Checkpoint): string {
  return checkpoint.managingSince ?? checkpoint.history?.[0]?.startedAt ?? checkpoint.cycleStartedAt;
}

/**
 * The checkpoint of `job` that `value` holds, or a CorruptCheckpointError naming `where`
 * and the first field that is wrong, so a person can look at it before resetting the job.
 */
export function checkpointFrom(value: unknown, job: string, where: string): Checkpoint {
  const parsed = checkpointSchema.safeParse(value);
  if (!parsed.success) throw new CorruptCheckpointError(job, where, describeIssue(parsed.error.issues[0]));
  if (parsed.data.job !== job) {
    throw new CorruptCheckpointError(
      job,
      where,
      `job: expected ${JSON.stringify(job)}, found ${JSON.stringify(parsed.data.job)}`,
    );
  }
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'unexpected content';
  const field = issue.path
    .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
    .join('')
    .replace(/^\./, '');
  // zod's "Invalid input: expected number, received string" without the heading.
  const problem = issue.message.replace(/^[A-Z][a-z]+(?: [a-z]+)*: /, '');
  return `${field || 'the checkpoint'}: ${problem}`;
}
