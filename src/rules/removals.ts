// At the end of a complete cycle: who is no longer in scope, what happens to them, and
// whether the mass-deletion brake holds it all back until a person approves that exact
// list. Pure: no I/O.
import type { MaxDeletes } from '../config/resolve.ts';
import { metaKeys } from '../model/meta-keys.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { ChangeSubject } from './change.ts';
import { jobsOf, objectIdOf } from './user-index.ts';

export interface RemovalSettings {
  jobName: string;
  mode: 'none' | 'soft' | 'hard';
  scope: 'managed' | { domains: readonly string[] };
  /** Logins or emails never disabled or deleted. */
  protect: readonly string[];
  manageAdministrators: boolean;
  /** The account the tool signs in as. */
  selfId: number;
  /** WordPress user id that receives deleted users' content (hard mode). */
  reassignTo: number | undefined;
  maxDeletes: MaxDeletes;
}

/** What this run knows beyond the settings: who approved which removals, and how much Entra returned. */
export interface RemovalReview {
  /** WordPress user ids of the last held list a person approved. */
  approved?: { ids: ReadonlySet<number>; by: string } | undefined;
  /**
   * Full cycles: how many Entra users the cycle read. A cycle that read none, or under half
   * of the users the job manages, most likely ran a broken query: its removals always wait
   * for approval.
   */
  seenCount?: number | undefined;
}

export type RemovalChange =
  | {
      action: 'disable';
      subject: ChangeSubject;
      user: WordPressUser;
      patch: Record<string, unknown>;
      approvedBy?: string | undefined;
    }
  | {
      action: 'delete';
      subject: ChangeSubject;
      user: WordPressUser;
      reassignTo: number;
      approvedBy?: string | undefined;
    }
  /** Other jobs still manage the user: this job only lets go of it. */
  | {
      action: 'release';
      subject: ChangeSubject;
      user: WordPressUser;
      patch: Record<string, unknown>;
      message: string;
    }
  | { action: 'held'; subject: ChangeSubject; user: WordPressUser; reason: string };

export interface RemovalPlan {
  changes: RemovalChange[];
  /** Users this job manages (the base of a percentage limit). */
  managedCount: number;
  /** Most removals one run may make without approval. */
  limit: number;
  /** Disables and deletes this cycle wants, held or not. */
  removalCount: number;
  held: boolean;
  /** Why the cycle looks broken (no users, or far fewer than the job manages), if it does. */
  suspect?: string | undefined;
  /** Held users a person's approval did not name (more or other users than reviewed). */
  unapproved: string[];
  approvedBy?: string | undefined;
}

/** A percentage limit never goes below this, so small sites are not stuck. */
const percentageFloor = 10;

/**
 * `managedTotal` is the base of a percentage limit when `users` are only some of the
 * site's users (a delta round); otherwise the users given are counted.
 */
export function planRemovals(
  users: Iterable<WordPressUser>,
  seen: ReadonlySet<string>,
  settings: RemovalSettings,
  managedTotal?: number,
  review: RemovalReview = {},
): RemovalPlan {
  const protectedNames = new Set(settings.protect.map((name) => name.toLowerCase()));
  let managedCount = 0;
  const removals: Array<Extract<RemovalChange, { action: 'disable' | 'delete' }>> = [];
  const releases: RemovalChange[] = [];
  for (const user of users) {
    const jobs = jobsOf(user);
    const marked = jobs.includes(settings.jobName);
    if (marked) managedCount++;
    if (settings.mode === 'none' || !(marked || inDomainScope(user, settings.scope))) continue;
    const objectId = objectIdOf(user);
    if (objectId && seen.has(objectId.toLowerCase())) continue;
    if (user.id === settings.selfId) continue;
    // A network's super admins are never changed by the sync.
    if (user.superAdmin) continue;
    if (user.roles.includes('administrator') && !settings.manageAdministrators) continue;
    if (protectedNames.has(user.username.toLowerCase()) || protectedNames.has(user.email.toLowerCase()))
      continue;
    const subject = subjectOf(user);
    const others = jobs.filter((job) => job !== settings.jobName);
    if (marked && others.length > 0) {
      releases.push({
        action: 'release',
        subject,
        user,
        patch: { meta: { [metaKeys.jobs]: others } },
        message: `no longer in job ${settings.jobName}; still managed by ${others.join(', ')}`,
      });
      continue;
    }
    if (settings.mode === 'soft') {
      if (user.meta[metaKeys.status] === 'disabled') continue;
      removals.push({
        action: 'disable',
        subject,
        user,
        patch: { roles: [], meta: { [metaKeys.status]: 'disabled', [metaKeys.restoreRoles]: user.roles } },
      });
    } else if (settings.reassignTo !== undefined) {
      removals.push({ action: 'delete', subject, user, reassignTo: settings.reassignTo });
    }
  }
  if (managedTotal !== undefined) managedCount = managedTotal;
  const limit = removalLimit(settings.maxDeletes, managedCount);
  const suspect = suspectCycle(review.seenCount, managedCount, removals.length);
  const needsApproval = removals.length > limit || suspect !== undefined;
  const approved = review.approved;
  const unapproved = approved ? removals.filter((removal) => !approved.ids.has(removal.user.id)) : removals;
  const held = needsApproval && unapproved.length > 0;
  const why =
    suspect ??
    `${removals.length} removals exceed safety.maxDeletes (${limit} of ${managedCount} managed users)`;
  const changes: RemovalChange[] = held
    ? removals.map((removal) => ({
        action: 'held',
        subject: removal.subject,
        user: removal.user,
        reason: `would be ${removal.action === 'disable' ? 'disabled' : 'deleted'}, but ${why}; nothing was removed — check the held list, then approve exactly it with --allow-deletes ${removals.length} (action input allow-deletes: '${removals.length}')`,
      }))
    : needsApproval && approved
      ? removals.map((removal) => ({ ...removal, approvedBy: approved.by }))
      : removals;
  return {
    changes: [...releases, ...changes],
    managedCount,
    limit,
    removalCount: removals.length,
    held,
    suspect,
    // Only worth saying when a person approved a list and the run found more or others.
    unapproved: held && approved ? unapproved.map((removal) => removal.user.username).sort() : [],
    approvedBy: !held && needsApproval && approved ? approved.by : undefined,
  };
}

function suspectCycle(seenCount: number | undefined, managed: number, removals: number): string | undefined {
  if (seenCount === undefined || removals === 0) return undefined;
  if (seenCount === 0) {
    return `the cycle read no users from Entra while the job manages ${managed}: most likely the query (source.users.filter or search, or the groups) is wrong or a permission is missing`;
  }
  if (seenCount < managed / 2) {
    return `the cycle read only ${seenCount} users from Entra while the job manages ${managed}: most likely the query (source.users.filter or search, or the groups) is wrong or a permission is missing`;
  }
  return undefined;
}

/** Whether the removal rules look at this user at all: marked by the job, or in its domains. */
export function inRemovalScope(user: WordPressUser, settings: RemovalSettings): boolean {
  return jobsOf(user).includes(settings.jobName) || inDomainScope(user, settings.scope);
}

export function countManaged(users: Iterable<WordPressUser>, jobName: string): number {
  let count = 0;
  for (const user of users) if (jobsOf(user).includes(jobName)) count++;
  return count;
}

/** What the end of a complete cycle did about users no longer in scope, as the summary shows it. */
export interface RemovalOutcome {
  wanted: number;
  limit: number;
  managed: number;
  held: boolean;
  /** Logins, sorted. */
  heldUsers: string[];
  heldIds?: Array<{ id: number; login: string }>;
  /** Why the cycle looks broken (no users, or far fewer than the job manages). */
  suspect?: string | undefined;
  /** Held users the given approval did not name. */
  unapproved?: string[];
  approvedBy?: string | undefined;
}

/** What the run summary says about a removal plan. */
export function removalSummary(plan: RemovalPlan): RemovalOutcome {
  return {
    wanted: plan.removalCount,
    limit: plan.limit,
    managed: plan.managedCount,
    held: plan.held,
    heldUsers: plan.held
      ? plan.changes
          .filter((change) => change.action === 'held')
          .map((change) => change.user.username)
          .sort()
      : [],
    heldIds: plan.changes.flatMap((change) =>
      change.action === 'held' ? [{ id: change.user.id, login: change.user.username }] : [],
    ),
    suspect: plan.suspect,
    unapproved: plan.unapproved,
    approvedBy: plan.approvedBy,
  };
}

export function removalLimit(maxDeletes: MaxDeletes, managedCount: number): number {
  if (maxDeletes.kind === 'count') return maxDeletes.value;
  return Math.max(percentageFloor, Math.ceil((maxDeletes.value / 100) * managedCount));
}

function inDomainScope(user: WordPressUser, scope: RemovalSettings['scope']): boolean {
  if (scope === 'managed') return false;
  const login = user.username.toLowerCase();
  const email = user.email.toLowerCase();
  return scope.domains.some((domain) => login.endsWith(`@${domain}`) || email.endsWith(`@${domain}`));
}

function subjectOf(user: WordPressUser): ChangeSubject {
  return {
    objectId: objectIdOf(user) ?? '',
    userPrincipalName: '',
    email: user.email,
    wordpressId: user.id,
    wordpressLogin: user.username,
  };
}
