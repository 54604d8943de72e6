// One page of Entra users through map → match → plan → apply (and avatars): the step
// full cycles and delta rounds share.

import type { ApprovedAdoptions } from '../rules/adoption.ts';
import type { DesiredUser, UnmappedUser } from '../rules/desired-user.ts';
import type { MatchRule } from '../rules/match-user.ts';
import { type CycleClaims, planChanges } from '../rules/plan.ts';
import type { WordPressUserIndex } from '../rules/user-index.ts';
import type { UserLookupKeys } from '../wordpress/user-lookup.ts';
import type { AppliedChange } from './apply.ts';
import { applyChanges, reportOnly } from './apply.ts';
import { syncAvatars } from './avatars.ts';
import type { CycleContext, CycleJob, EntraUser } from './cycle.ts';

export interface PageOutcome {
  desired: DesiredUser[];
  unmapped: UnmappedUser[];
  applied: AppliedChange[];
  avatarsUploaded: number;
}

/**
 * What a page's users may match in WordPress: by the job's rules, plus the logins and
 * emails a create would collide with. Short logins cost a LIKE each, so only when asked.
 */
export function matchKeys(users: readonly DesiredUser[], rules: readonly MatchRule[]): UserLookupKeys {
  return {
    objectIds: users.map((user) => user.objectId),
    emails: users.flatMap((user) => (user.email ? [user.email] : [])),
    logins: users.flatMap((user) =>
      rules.includes('username') ? [user.login, user.userPrincipalName].filter(Boolean) : [user.login],
    ),
    shortLogins: rules.includes('shortLogin')
      ? users.flatMap((user) => {
          const short = user.userPrincipalName.split('@')[0];
          return short ? [short] : [];
        })
      : [],
  };
}

export function mapPage(
  users: readonly EntraUser[],
  job: CycleJob,
): { desired: DesiredUser[]; unmapped: UnmappedUser[] } {
  const mapped = users.map((user) => job.mapUser(user));
  return {
    desired: mapped.filter((user): user is DesiredUser => 'login' in user),
    unmapped: mapped.filter((user): user is UnmappedUser => 'outcome' in user),
  };
}

export async function syncPage(
  mapped: { desired: DesiredUser[]; unmapped: UnmappedUser[] },
  job: CycleJob,
  context: CycleContext,
  index: WordPressUserIndex,
  claims: CycleClaims,
  managingSince: Date | undefined,
  approvedAdoptions?: ApprovedAdoptions | undefined,
): Promise<PageOutcome> {
  const { desired, unmapped } = mapped;
  const changes = planChanges({
    desired,
    unmapped,
    index,
    settings: job.plan,
    claims,
    managingSince,
    approvedAdoptions,
  });
  const applied = context.dryRun
    ? changes.map(reportOnly)
    : await applyChanges(changes, context.writes, index, {
        concurrency: job.writeConcurrency ?? job.concurrency,
      });
  let avatarsUploaded = 0;
  if (job.avatarSize && context.wordpress && !context.dryRun) {
    const avatars = await syncAvatars(
      desired.flatMap((person) => {
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
    );
    avatarsUploaded = avatars.uploaded;
  }
  return { desired, unmapped, applied, avatarsUploaded };
}

export function isUserItem(item: EntraUser): boolean {
  const type = item['@odata.type'];
  return type === undefined || type === '#microsoft.graph.user';
}
