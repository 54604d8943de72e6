// Turns an Entra user into the WordPress user a job wants, or into a row
// that says in plain words why it cannot.
import { isManagerUserIdMapping, type Mapping } from '../config/mapping.ts';
import type { ProfileField } from '../model/wordpress-user.ts';
import type { DesiredUser, UnmappedUser } from './desired-user.ts';
import { evaluateMapping } from './evaluate-mapping.ts';
import { emailMaxLength, isPlausibleEmail, toWordPressLogin } from './wordpress-normalise.ts';

export interface UserMapSettings {
  user_login: Mapping;
  user_email: Mapping;
  first_name?: Mapping | undefined;
  last_name?: Mapping | undefined;
  display_name?: Mapping | undefined;
  nickname?: Mapping | undefined;
  description?: Mapping | undefined;
  url?: Mapping | undefined;
  locale?: Mapping | undefined;
  meta: Record<string, Mapping>;
}

export interface RoleRule {
  /** The Entra group whose members get the role. */
  groupId?: string;
  /** Lower-case object IDs of the group's transitive user members. */
  members: ReadonlySet<string>;
  role: string;
}

export interface UserMappingSettings {
  map: UserMapSettings;
  guests: 'ignore' | 'include';
  defaultRole: string;
  guestRole?: string | undefined;
  /** Group → role rules; a user gets every matching role, or the default when none match. */
  roleRules?: readonly RoleRule[];
}

/** WordPress REST field ← jobs.yaml map key. */
const profileSources: ReadonlyArray<[ProfileField, keyof UserMapSettings]> = [
  ['first_name', 'first_name'],
  ['last_name', 'last_name'],
  ['name', 'display_name'],
  ['nickname', 'nickname'],
  ['description', 'description'],
  ['url', 'url'],
  ['locale', 'locale'],
];

export function isGuest(user: Record<string, unknown>): boolean {
  const upn = typeof user.userPrincipalName === 'string' ? user.userPrincipalName : '';
  return user.userType === 'Guest' || upn.includes('#EXT#');
}

export function mapEntraUser(
  user: Record<string, unknown> & { id: string },
  settings: UserMappingSettings,
): DesiredUser | UnmappedUser {
  const objectId = user.id;
  const userPrincipalName = typeof user.userPrincipalName === 'string' ? user.userPrincipalName : '';
  const guest = isGuest(user);
  const mappedEmail = evaluateMapping(settings.map.user_email, user);
  const email = guest && mappedEmail ? readableGuestName(mappedEmail) : mappedEmail;
  const unmapped = (outcome: UnmappedUser['outcome'], reason: string): UnmappedUser => ({
    objectId,
    userPrincipalName,
    email,
    outcome,
    reason,
  });
  if (user.accountEnabled === false)
    return unmapped('skipped', 'the account is disabled in Entra (accountEnabled is false)');
  if (guest && settings.guests === 'ignore')
    return unmapped('skipped', 'guest user, and the job has guests: ignore');
  if (email === undefined) {
    return unmapped(
      'error',
      `no email found (map.user_email looks at ${describeMapping(settings.map.user_email)}); give the user a mail or otherMails value in Entra, or map user_email to another attribute`,
    );
  }
  if (!isPlausibleEmail(email)) {
    return unmapped(
      'error',
      `"${email}" is not an email address WordPress accepts (only ASCII letters, digits and a few symbols such as . _ + -); fix it in Entra or map user_email to another attribute`,
    );
  }
  if (email.trim().length > emailMaxLength) {
    return unmapped(
      'error',
      `the email "${email.trim()}" is longer than WordPress's ${emailMaxLength} characters; give the user a shorter mail in Entra or map user_email to another attribute`,
    );
  }
  const loginSource = evaluateMapping(settings.map.user_login, user);
  if (loginSource === undefined) {
    return unmapped(
      'error',
      `no username: ${describeMapping(settings.map.user_login)} is empty; map user_login to an attribute every user has`,
    );
  }
  const mappedLogin = guest ? readableGuestName(loginSource) : loginSource;
  // A login WordPress would refuse is left as mapped: only a new user needs one, and the
  // planner derives it or reports it by the job's usernames setting (login-policy.ts).
  const login = toWordPressLogin(mappedLogin);
  const profile: DesiredUser['profile'] = {};
  for (const [field, key] of profileSources) {
    const mapping = settings.map[key] as Mapping | undefined;
    if (!mapping) continue;
    profile[field] = evaluateMapping(mapping, user) ?? '';
  }
  const meta: Record<string, string> = {};
  const managerUserIdKeys: string[] = [];
  for (const [key, mapping] of Object.entries(settings.map.meta)) {
    if (isManagerUserIdMapping(mapping)) managerUserIdKeys.push(key);
    meta[key] = isManagerUserIdMapping(mapping) ? '' : (evaluateMapping(mapping, user) ?? '');
  }
  const ruleRoles = (settings.roleRules ?? [])
    .filter((rule) => rule.members.has(objectId.toLowerCase()))
    .map((rule) => rule.role);
  const fallback = guest && settings.guestRole ? settings.guestRole : settings.defaultRole;
  const roles = ruleRoles.length > 0 ? [...new Set(ruleRoles)] : fallback ? [fallback] : [];
  return {
    objectId,
    userPrincipalName,
    login: login.ok ? login.login : mappedLogin.trim(),
    email: email.trim(),
    profile,
    roles,
    meta,
    guest,
    ...(managerUserIdKeys.length > 0
      ? { managerUserId: { managerObjectId: managerIdOf(user), metaKeys: managerUserIdKeys } }
      : {}),
  };
}

/** The object ID of $expand=manager($select=id): absent or null for a user without a manager. */
function managerIdOf(user: Record<string, unknown>): string {
  const manager = user.manager;
  if (typeof manager !== 'object' || manager === null) return '';
  const id = (manager as Record<string, unknown>).id;
  return typeof id === 'string' ? id : '';
}

/**
 * Fills the meta keys mapped to manager.wordpressUserId from the accounts known so far:
 * the WordPress user ID of the account carrying the manager's object ID, or '' while the
 * manager has no synced account (a later page or run fills it in).
 */
export function fillManagerUserIds(
  users: readonly DesiredUser[],
  accountIdOf: (objectId: string) => number | undefined,
): void {
  for (const user of users) {
    if (!user.managerUserId) continue;
    const { managerObjectId, metaKeys } = user.managerUserId;
    const id = managerObjectId ? accountIdOf(managerObjectId) : undefined;
    for (const key of metaKeys) user.meta[key] = id === undefined ? '' : String(id);
  }
}

/**
 * A guest's UPN is their home address mangled: alice_fabrikam.com#EXT#@contoso.onmicrosoft.com
 * stands for alice@fabrikam.com, which is what a person recognises (and WordPress accepts).
 */
export function readableGuestName(value: string): string {
  const marker = value.toUpperCase().indexOf('#EXT#');
  if (marker < 0) return value;
  const home = value.slice(0, marker);
  const at = home.lastIndexOf('_');
  return at < 0 ? home : `${home.slice(0, at)}@${home.slice(at + 1)}`;
}

function describeMapping(mapping: Mapping): string {
  if (mapping.kind === 'first') return mapping.options.map((option) => option.text).join(', ');
  return mapping.text;
}
