// The shapes the cycle and its listings share: what a job asks of one run, what the run
// is given to work with, and the bookkeeping a listing reports into. Kept apart from
// cycle.ts so the listings (full-cycle, delta-round, page-sync) need not import it back.
import type { GraphApi } from '../graph/graph-api.ts';
import type { Logger } from '../log/logger.ts';
import type { ProgressReporter } from '../log/progress.ts';
import type { EntraUser } from '../model/entra-user.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { ResultsWriter } from '../report/results-writer.ts';
import type { ApprovalRequest, ResolvedApprovals } from '../rules/approvals.ts';
import type { CycleClaims } from '../rules/claims.ts';
import type { DesiredUser, UnmappedUser } from '../rules/desired-user.ts';
import type { PlanSettings } from '../rules/plan.ts';
import type { RemovalOutcome, RemovalSettings } from '../rules/removals.ts';
import type { Checkpoint } from '../state/checkpoint.ts';
import type { StateStore } from '../state/state-store.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import type { UserLookup, UserLookupKeys } from '../wordpress/user-lookup.ts';
import type { UserWrites } from '../wordpress/user-writes.ts';
import type { AppliedChange } from './apply.ts';

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
  removals: RemovalOutcome | undefined;
}
