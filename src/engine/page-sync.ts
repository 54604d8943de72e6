// One page of Entra users through map → match → plan → apply (and avatars): the step
// full cycles and delta rounds share. The page's rows are recorded on the run.
import type { EntraUser } from '../model/entra-user.ts';
import type { DesiredUser, UnmappedUser } from '../rules/desired-user.ts';
import { type LoginRule, loginCandidates } from '../rules/login-policy.ts';
import { fillManagerUserIds } from '../rules/map-user.ts';
import type { MatchRule } from '../rules/match-user.ts';
import { planPage } from '../rules/plan.ts';
import type { WordPressUserIndex } from '../rules/user-index.ts';
import type { UserLookupKeys } from '../wordpress/user-lookup.ts';
import { type AppliedChange, applyChanges, reportOnly } from './apply.ts';
import { readPageVersions, syncAvatars } from './avatars.ts';
import type { CycleJob, CycleRun } from './cycle-types.ts';

export interface MappedPage {
  desired: DesiredUser[];
  unmapped: UnmappedUser[];
}

/**
 * What a page's users may match in WordPress: by the job's rules, plus the logins and
 * emails a create would collide with. Short logins cost a LIKE each, so only when asked.
 */
export function matchKeys(
  users: readonly DesiredUser[],
  rules: readonly MatchRule[],
  loginRule?: LoginRule | undefined,
): UserLookupKeys {
  return {
    // Managers too, so that manager.wordpressUserId finds their accounts.
    objectIds: [
      ...users.map((user) => user.objectId),
      ...users.flatMap((user) =>
        user.managerUserId?.managerObjectId ? [user.managerUserId.managerObjectId] : [],
      ),
    ],
    emails: users.flatMap((user) => (user.email ? [user.email] : [])),
    logins: users.flatMap((user) => [
      ...(rules.includes('username') ? [user.login, user.userPrincipalName].filter(Boolean) : [user.login]),
      // The logins a create would take, to see which are free.
      ...(loginRule ? loginCandidates(loginRule, user.login, user.objectId) : []),
    ]),
    shortLogins: rules.includes('shortLogin')
      ? users.flatMap((user) => {
          const short = user.userPrincipalName.split('@')[0];
          return short ? [short] : [];
        })
      : [],
  };
}

export function mapPage(users: readonly EntraUser[], job: CycleJob): MappedPage {
  const mapped = users.map((user) => job.mapUser(user));
  return {
    desired: mapped.filter((user): user is DesiredUser => 'login' in user),
    unmapped: mapped.filter((user): user is UnmappedUser => 'outcome' in user),
  };
}

/** Plans and applies one page against the index, records its rows, and returns what was applied. */
export async function syncPage(
  run: CycleRun,
  mapped: MappedPage,
  index: WordPressUserIndex,
): Promise<AppliedChange[]> {
  const { job, context } = run;
  fillManagerUserIds(mapped.desired, (objectId) => index.byObjectId(objectId)[0]?.id);
  const plan = planPage({
    desired: mapped.desired,
    unmapped: mapped.unmapped,
    index,
    settings: job.plan,
    claims: run.claims,
    managingSince: run.managingSince,
    approvedAdoptions: run.approvals.adoptions,
  });
  run.claims.add(plan.claimed);
  const avatars = job.avatarSize && context.wordpress && !context.dryRun;
  // Photo versions are read while the page's users are written, not after.
  const photoVersions = avatars
    ? readPageVersions(
        context.graph,
        mapped.desired.map((person) => person.objectId),
      )
    : undefined;
  const applied = context.dryRun
    ? plan.changes.map(reportOnly)
    : await applyChanges(plan.changes, context.writes, index, {
        concurrency: job.writeConcurrency ?? job.concurrency,
      });
  run.record(applied);
  if (photoVersions && job.avatarSize && context.wordpress) {
    const avatars = await syncAvatars(
      mapped.desired.flatMap((person) => {
        const user = index.byObjectId(person.objectId)[0];
        return user ? [{ objectId: person.objectId, user }] : [];
      }),
      {
        ...context,
        index,
        wordpress: context.wordpress,
        size: job.avatarSize,
        concurrency: job.concurrency,
      },
      photoVersions,
    );
    if (avatars.uploaded > 0) run.counts.avatars = (run.counts.avatars ?? 0) + avatars.uploaded;
  }
  return applied;
}
