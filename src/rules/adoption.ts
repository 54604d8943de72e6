// Whether a matched WordPress account may be linked to an Entra user. Linking an account
// that carries no marker of this job is an adoption, and adoption is where accounts get
// taken over: a member can change their own email to a joiner's address over REST at once,
// and on a site with open registration anyone can register a future employee's username.
// So an account is adopted automatically only with proof that it is that person's; any
// other match is held until a person approves it. Pure: no I/O.
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { DesiredUser } from './desired-user.ts';
import type { MatchRule } from './match-user.ts';
import { jobsOf, objectIdOf } from './user-index.ts';

export interface AdoptionSettings {
  /** User meta keys other tools keep the Entra object ID in (WPO365: aadObjectId). */
  objectIdKeys: readonly string[];
  /** Sites without the companion plugin: link by the match rules without proof (the job accepted it). */
  linkWithoutPlugin?: boolean | undefined;
}

/** Held adoptions a person approved: Entra object id (lower case) → WordPress user id. */
export interface ApprovedAdoptions {
  pairs: ReadonlyMap<string, number>;
  by: string;
}

export type AdoptionVerdict =
  /** The account already carries this job's marker: nothing to adopt. */
  { kind: 'managed' } | { kind: 'adopt'; proof: string } | { kind: 'hold'; reason: string };

/**
 * `managingSince` is when the job began managing the site (its first cycle started);
 * an account that had its email or login since before then may be adopted by them.
 */
export function judgeAdoption(
  desired: DesiredUser,
  user: WordPressUser,
  rule: MatchRule,
  jobName: string,
  settings: AdoptionSettings,
  managingSince: Date | undefined,
  approved?: ApprovedAdoptions,
): AdoptionVerdict {
  if (jobsOf(user).includes(jobName)) return { kind: 'managed' };
  // No plugin: no markers are kept, so every run would "adopt" the same accounts again.
  if (!user.entra_wp_sync_identity && settings.linkWithoutPlugin) return { kind: 'managed' };
  const objectId = desired.objectId.toLowerCase();
  if (objectIdOf(user)?.toLowerCase() === objectId) {
    return {
      kind: 'adopt',
      proof: 'adopted: the account already carries this Entra object ID (entra-wp-sync)',
    };
  }
  const linked = user.entra_wp_sync_identity?.linkedObjectIds ?? {};
  for (const key of settings.objectIdKeys) {
    if (linked[key]?.toLowerCase() === objectId) {
      return {
        kind: 'adopt',
        proof: `adopted: the account already carries this Entra object ID under ${key}`,
      };
    }
  }
  const doubt = doubtAbout(user, settings, managingSince, linked);
  if (doubt === undefined) {
    return {
      kind: 'adopt',
      proof: `adopted: the account had this ${ruleNoun(rule)} before the job began managing the site (${managingSince?.toISOString() ?? 'unknown'})`,
    };
  }
  // Only the pair a person reviewed: the same Entra user and the same account.
  if (approved?.pairs.get(objectId) === user.id) {
    return { kind: 'adopt', proof: `adopted: approved by ${approved.by} (${doubt})` };
  }
  return {
    kind: 'hold',
    reason: `matches WordPress user #${user.id} ${user.username} by ${ruleNoun(rule)}, but ${doubt}; nothing was changed — check that the account is this person's, then approve the held list with --allow-adoptions (action input allow-adoptions: true)`,
  };
}

/** Why the account cannot be shown to be this person's; undefined when it can. */
function doubtAbout(
  user: WordPressUser,
  settings: AdoptionSettings,
  managingSince: Date | undefined,
  linked: Record<string, string>,
): string | undefined {
  const other = Object.entries(linked).find(([key]) => settings.objectIdKeys.includes(key));
  if (other) return `it carries another Entra object ID (${other[1]}) under ${other[0]}`;
  const identity = user.entra_wp_sync_identity;
  if (!identity) {
    return 'the site has no companion plugin to show whether the account had it before the sync began';
  }
  if (!managingSince) return 'the job has not begun managing the site yet (no cycle has started)';
  // Strictly before: an account made in the moment the job began is not proven either way.
  const since = managingSince.getTime();
  if (!(Date.parse(identity.registeredAt) < since)) {
    return `the account was registered on ${identity.registeredAt}, after the job began managing the site on ${managingSince.toISOString()}`;
  }
  if (identity.identityChangedAt !== null && !(Date.parse(identity.identityChangedAt) < since)) {
    return `the account's email or login was changed on ${identity.identityChangedAt}, after the job began managing the site on ${managingSince.toISOString()}`;
  }
  return undefined;
}

function ruleNoun(rule: MatchRule): string {
  switch (rule) {
    case 'objectId':
      return 'Entra object ID';
    case 'email':
      return 'email';
    case 'username':
      return 'username';
    case 'shortLogin':
      return 'short login';
  }
}
