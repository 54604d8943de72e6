// A pure function from (desired users, current WordPress users, job settings) to a list
// of changes. No I/O, and nothing it is given is changed: the same inputs always give the
// same plan.
import { metaKeys } from '../model/meta-keys.ts';
import { type ProfileField, profileFields, type WordPressUser } from '../model/wordpress-user.ts';
import { type AdoptionSettings, type ApprovedAdoptions, judgeAdoption } from './adoption.ts';
import type { Change, ChangeSubject, CreateBody } from './change.ts';
import { type Claims, PageClaims } from './claims.ts';
import type { DesiredUser, UnmappedUser } from './desired-user.ts';
import { type LoginRule, loginCandidates, loginRefusal, registrationRule } from './login-policy.ts';
import { type MatchRule, matchUser } from './match-user.ts';
import { jobsOf, objectIdOf, type WordPressUserIndex } from './user-index.ts';
import { displayNameMaxLength, emailKey, loginKey, storedNameField } from './wordpress-normalise.ts';

export interface PlanSettings {
  jobName: string;
  match: readonly MatchRule[];
  create: boolean;
  update: boolean;
  rolesMode: 'replace' | 'add';
  /** Whether this job may change administrators' roles. */
  manageAdministrators: boolean;
  adoption: AdoptionSettings;
  /** False where WordPress drops the sync's marker meta (no companion plugin): never plan writing it. */
  writeMarkers?: boolean | undefined;
  /**
   * Meta keys the site's SSO plugin looks users up by, written with the object ID on
   * create and link (empty where the companion plugin cannot take them).
   */
  writeObjectIdKeys?: readonly string[] | undefined;
  /**
   * Roles this job may not grant (able to manage options or promote users), unless
   * roles.allowPrivileged: remembered roles of a disabled account are checked too.
   */
  privilegedRoles: ReadonlySet<string>;
  /**
   * Which logins the site accepts for new users: a multisite network's rule, or (when
   * undefined) a single site's.
   */
  loginRule?: LoginRule | undefined;
  /**
   * derive (the default): a new user whose mapped login the site refuses gets one the rule
   * derives; strict: an error row instead.
   */
  usernames?: 'derive' | 'strict' | undefined;
}

export interface PlanInput {
  desired: readonly DesiredUser[];
  unmapped: readonly UnmappedUser[];
  index: WordPressUserIndex;
  settings: PlanSettings;
  /** What earlier pages of the cycle claimed; none when left out. */
  claims?: Claims | undefined;
  /** When the job began managing the site: the line adoptions by email or login are judged by. */
  managingSince?: Date | undefined;
  /** Held adoptions a person approved. */
  approvedAdoptions?: ApprovedAdoptions | undefined;
}

export interface PagePlan {
  changes: Change[];
  /** What this page claimed, for the cycle's later pages. */
  claimed: Claims;
}

/** One page's plan; the input, the claims included, is only read. */
export function planPage(input: PlanInput): PagePlan {
  const claims = new PageClaims(input.claims);
  const changes: Change[] = input.unmapped.map((user) => ({
    action: user.outcome,
    subject: { objectId: user.objectId, userPrincipalName: user.userPrincipalName, email: user.email ?? '' },
    reason: user.reason,
  }));
  for (const desired of input.desired) changes.push(planOne(desired, input, claims));
  return { changes, claimed: claims.made };
}

/** The changes alone, for a page planned on its own. */
export function planChanges(input: PlanInput): Change[] {
  return planPage(input).changes;
}

function planOne(desired: DesiredUser, input: PlanInput, claims: PageClaims): Change {
  const { index, settings } = input;
  const subject: ChangeSubject = {
    objectId: desired.objectId,
    userPrincipalName: desired.userPrincipalName,
    email: desired.email,
  };
  const emailOwner = claims.ownerOfEmail(emailKey(desired.email));
  if (emailOwner && emailOwner !== desired.objectId) {
    return {
      action: 'error',
      subject,
      reason: `the email ${desired.email} is also used by Entra user ${emailOwner}; WordPress needs a unique email per user — fix one of them in Entra`,
    };
  }
  const match = matchUser(desired, index, settings.match);
  if (match.kind === 'conflict') return { action: 'error', subject, reason: match.reason };
  if (match.kind === 'matched') {
    const claimedBy = claims.ownerOfUser(match.user.id);
    if (claimedBy && claimedBy !== desired.objectId) {
      return {
        action: 'error',
        subject: withUser(subject, match.user),
        reason: `WordPress user #${match.user.id} ${match.user.username} is claimed by Entra user ${claimedBy} as well; make their emails/usernames distinct`,
      };
    }
    claims.made.wordpressUsers.set(match.user.id, desired.objectId);
    claims.made.emails.set(emailKey(desired.email), desired.objectId);
    if (match.user.superAdmin) {
      return {
        action: 'skipped',
        subject: withUser(subject, match.user),
        reason: `WordPress user #${match.user.id} ${match.user.username} is a super admin of the network; the sync never changes super admins`,
      };
    }
    const verdict = judgeAdoption(
      desired,
      match.user,
      match.rule,
      settings.jobName,
      settings.adoption,
      input.managingSince,
      input.approvedAdoptions,
    );
    if (verdict.kind === 'hold')
      return { action: 'held', subject: withUser(subject, match.user), reason: verdict.reason };
    const change = planUpdate(desired, match.user, input, withUser(subject, match.user));
    if (verdict.kind === 'adopt' && (change.action === 'update' || change.action === 'restore')) {
      change.adoption = verdict.proof;
    }
    return change;
  }
  return planNewUser(desired, input, claims, subject);
}

/**
 * A person with no WordPress user yet: created with the mapped login where the site accepts
 * it, else with one the rule derives (reported in the row), or, with usernames: strict, an
 * error row that says what to do.
 */
function planNewUser(
  desired: DesiredUser,
  input: PlanInput,
  claims: PageClaims,
  subject: ChangeSubject,
): Change {
  const { index, settings } = input;
  const rule = settings.loginRule ?? registrationRule;
  const refusal = loginRefusal(rule, desired.login);
  const strict = settings.usernames === 'strict';
  if (refusal && strict) {
    return {
      action: 'error',
      subject,
      reason: `${desired.userPrincipalName || desired.objectId}: ${refusal}; or set usernames: derive, which gives such a person a login the site accepts`,
    };
  }
  // A login the site accepts is kept; on a network, derive still prefers the rule's own form.
  if (!refusal && (strict || rule.kind === 'registration'))
    return planCreate(desired, input, claims, subject);
  const login = freeLogin(desired, rule, index, claims);
  if (!login) {
    return {
      action: 'error',
      subject,
      reason: `no free username for ${desired.login}: every username the site allows for this person (${loginCandidates(rule, desired.login, desired.objectId).join(', ')}) belongs to another user; map user_login differently`,
    };
  }
  return planCreate({ ...desired, login }, input, claims, { ...subject, wordpressLogin: login });
}

/**
 * The first login the rule gives this person that no WordPress user has and no other
 * person of the cycle takes; a taken one is never shared, so nobody is created twice.
 */
function freeLogin(
  desired: DesiredUser,
  rule: LoginRule,
  index: WordPressUserIndex,
  claims: PageClaims,
): string | undefined {
  return loginCandidates(rule, desired.login, desired.objectId).find((login) => {
    const owner = claims.ownerOfLogin(loginKey(login));
    return index.byLogin(login).length === 0 && (!owner || owner === desired.objectId);
  });
}

function planCreate(
  desired: DesiredUser,
  input: PlanInput,
  claims: PageClaims,
  subject: ChangeSubject,
): Change {
  const { index, settings } = input;
  const loginTaken = index.byLogin(desired.login)[0];
  if (loginTaken) {
    return {
      action: 'error',
      subject,
      reason: `the username ${desired.login} already belongs to WordPress user #${loginTaken.id}, which does not match this person by the job's match rules; add "username" to match or map user_login differently`,
    };
  }
  const emailTaken = index.byEmail(desired.email)[0];
  if (emailTaken) {
    return {
      action: 'error',
      subject,
      reason: `the email ${desired.email} already belongs to WordPress user #${emailTaken.id} ${emailTaken.username}, which the job's match rules do not link to this person; add "email" to match`,
    };
  }
  const loginOwner = claims.ownerOfLogin(loginKey(desired.login));
  if (loginOwner && loginOwner !== desired.objectId) {
    return {
      action: 'error',
      subject,
      reason: `the username ${desired.login} is also the username of Entra user ${loginOwner} (WordPress usernames drop accents and ignore case); WordPress needs a unique username per user — rename one of them in Entra or map user_login differently`,
    };
  }
  claims.made.emails.set(emailKey(desired.email), desired.objectId);
  claims.made.logins.set(loginKey(desired.login), desired.objectId);
  if (!settings.create) {
    return { action: 'skipped', subject, reason: 'not in WordPress and actions.create is off' };
  }
  return { action: 'create', subject, desired, body: createBody(desired, settings.jobName, settings) };
}

/** The REST field of the companion plugin that takes object-ID keys (key → object ID). */
export const objectIdKeysField = 'entra_wp_sync_object_id_keys';

function createBody(desired: DesiredUser, jobName: string, settings: PlanSettings): CreateBody {
  const body: CreateBody = {
    username: desired.login,
    email: desired.email,
    roles: desired.roles,
    meta: {
      ...desired.meta,
      ...markerMeta(desired.objectId, [jobName]),
      [metaKeys.managedFields]: createdManagedFields(desired, jobName),
    },
  };
  for (const field of profileFields) {
    const value = desired.profile[field];
    if (value === undefined) continue;
    const stored = storedValue(field, value);
    if (stored !== '' || !filledInByWordPress.has(field)) body[field] = stored;
  }
  const keys = settings.writeMarkers === false ? [] : (settings.writeObjectIdKeys ?? []);
  if (keys.length > 0)
    body[objectIdKeysField] = Object.fromEntries(keys.map((key) => [key, desired.objectId]));
  return body;
}

/**
 * The object-ID keys an account still lacks. A key holding another object ID is left
 * alone: it points the SSO plugin at someone else, which a person must sort out.
 */
function missingObjectIdKeys(user: WordPressUser, settings: PlanSettings): string[] {
  const linked = user.entra_wp_sync_identity?.linkedObjectIds;
  // Without the identity field the current values are unknown: writing blind would repeat every run.
  if (!linked || settings.writeMarkers === false) return [];
  return (settings.writeObjectIdKeys ?? []).filter((key) => linked[key] === undefined);
}

function planUpdate(
  desired: DesiredUser,
  user: WordPressUser,
  input: PlanInput,
  subject: ChangeSubject,
): Change {
  const { settings, index } = input;
  const patch: Record<string, unknown> = {};
  const fields: string[] = [];
  if (emailKey(user.email) !== emailKey(desired.email)) {
    const owner = index.byEmail(desired.email).find((other) => other.id !== user.id);
    if (owner) {
      return {
        action: 'error',
        subject,
        reason: `cannot change the email of #${user.id} ${user.username} to ${desired.email}: WordPress user #${owner.id} ${owner.username} has it`,
      };
    }
    patch.email = desired.email;
    fields.push('email');
  }
  for (const field of profileFields) {
    const wanted = desired.profile[field];
    if (wanted === undefined) continue;
    const stored = storedValue(field, wanted);
    if (stored === '' && filledInByWordPress.has(field)) continue;
    if (stored !== currentValue(user, field)) {
      patch[field] = stored;
      fields.push(field);
    }
  }
  const disabled = user.meta[metaKeys.status] === 'disabled';
  const roles = disabled ? restoredRoles(desired, user, settings) : plannedRoles(desired, user, settings);
  if (roles) {
    patch.roles = roles;
    fields.push('roles');
  }
  const meta: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(desired.meta)) {
    // WordPress leaves out meta keys it does not expose over REST and ignores writes to
    // them; comparing those would plan the same update on every run.
    if (!(key in user.meta)) continue;
    if (String(user.meta[key] ?? '') !== value) meta[key] = value;
  }
  const jobs = jobsOf(user);
  if (settings.writeMarkers !== false) {
    if (objectIdOf(user) !== desired.objectId) meta[metaKeys.objectId] = desired.objectId;
    if (!jobs.includes(settings.jobName)) meta[metaKeys.jobs] = [...jobs, settings.jobName].sort();
    // Only where the plugin registers the key: WordPress would drop the write on every run.
    if (metaKeys.managedFields in user.meta) {
      const current = stringList(user.meta[metaKeys.managedFields]);
      const managed = managedFields(desired, user, settings);
      const wanted = managedFieldEntries(current, settings.jobName, managed);
      if (!sameList(wanted, current)) meta[metaKeys.managedFields] = wanted;
    }
  }
  if (disabled) {
    meta[metaKeys.status] = 'active';
    meta[metaKeys.restoreRoles] = [];
  }
  if (Object.keys(meta).length > 0) {
    patch.meta = meta;
    fields.push(...Object.keys(meta).map((key) => `meta.${key}`));
  }
  const missingKeys = missingObjectIdKeys(user, settings);
  if (missingKeys.length > 0) {
    patch[objectIdKeysField] = Object.fromEntries(missingKeys.map((key) => [key, desired.objectId]));
    fields.push(...missingKeys.map((key) => `meta.${key}`));
  }
  if (user.member === false) {
    if (!settings.create) {
      return { action: 'skipped', subject, reason: 'not a member of this site and actions.create is off' };
    }
    // Not a member of this site: the change adds them; their roles here are the mapped ones.
    patch.roles = [...new Set(desired.roles)];
    if (!fields.includes('roles')) fields.push('roles');
    return { action: 'update', subject, desired, user, fields, patch, joinSite: true };
  }
  if (disabled) return { action: 'restore', subject, desired, user, fields, patch };
  if (fields.length === 0) return { action: 'unchanged', subject, desired, user };
  const markerFields = [
    metaKeys.objectId,
    metaKeys.jobs,
    metaKeys.managedFields,
    ...(settings.writeObjectIdKeys ?? []),
  ].map((key) => `meta.${key}`);
  const onlyMarker = fields.every((field) => markerFields.includes(field));
  if (!settings.update && !onlyMarker) {
    return {
      action: 'skipped',
      subject,
      reason: `differs in ${fields.join(', ')} but actions.update is off`,
    };
  }
  return { action: 'update', subject, desired, user, fields, patch };
}

function plannedRoles(
  desired: DesiredUser,
  user: WordPressUser,
  settings: PlanSettings,
): string[] | undefined {
  if (user.roles.includes('administrator') && !settings.manageAdministrators) return undefined;
  const wanted =
    settings.rolesMode === 'replace'
      ? [...new Set(desired.roles)]
      : [...new Set([...user.roles, ...desired.roles])];
  return sameSet(wanted, user.roles) ? undefined : wanted;
}

/** Replace mode gives the mapped roles; add mode also gives back what the user had. */
function restoredRoles(desired: DesiredUser, user: WordPressUser, settings: PlanSettings): string[] {
  const before = user.meta[metaKeys.restoreRoles];
  // Anyone who may edit users can write this key: it grants nothing the mapping could not.
  const remembered = Array.isArray(before)
    ? before.filter((role): role is string => typeof role === 'string' && !settings.privilegedRoles.has(role))
    : [];
  return settings.rolesMode === 'replace'
    ? [...new Set(desired.roles)]
    : [...new Set([...remembered, ...desired.roles])];
}

/**
 * The WordPress fields this job sets on the account (REST names), so the profile screen
 * can tell an administrator that a local edit there is overwritten at the next run.
 */
function managedFields(desired: DesiredUser, user?: WordPressUser, settings?: PlanSettings): string[] {
  const fields = ['email', ...profileFields.filter((field) => desired.profile[field] !== undefined)];
  const rolesLeftAlone = user?.roles.includes('administrator') && settings?.manageAdministrators === false;
  if (!rolesLeftAlone) fields.push('roles');
  return fields;
}

/** The managed-field entries of an account this job creates for `desired`. */
export function createdManagedFields(desired: DesiredUser, jobName: string): string[] {
  return managedFieldEntries([], jobName, managedFields(desired));
}

/**
 * The account's managed-field entries with this job's replaced: "job:field", one per field,
 * sorted, so two jobs managing one person keep each other's and a run that changes nothing
 * plans no write.
 */
function managedFieldEntries(
  current: readonly string[],
  jobName: string,
  fields: readonly string[],
): string[] {
  const others = current.filter((entry) => entry.slice(0, entry.lastIndexOf(':')) !== jobName);
  return [...new Set([...others, ...fields.map((field) => `${jobName}:${field}`)])].sort();
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function markerMeta(objectId: string, jobs: string[]): Record<string, unknown> {
  return { [metaKeys.objectId]: objectId, [metaKeys.jobs]: jobs, [metaKeys.status]: 'active' };
}

/**
 * WordPress stores the login (or the first and last name) for an empty display name or
 * nickname; asking for "" again would be an update on every run.
 */
const filledInByWordPress: ReadonlySet<ProfileField> = new Set(['name', 'nickname']);

/** The value WordPress will store for what we send, so later comparisons are stable. */
function storedValue(field: ProfileField, value: string): string {
  switch (field) {
    case 'description':
      return value.trim();
    case 'url':
      return value.trim().slice(0, 100).replace(/\/$/, '');
    case 'locale':
      // Entra says en-US where WordPress says en_US.
      return value.trim().replace('-', '_');
    case 'name':
      return storedNameField(value, displayNameMaxLength);
    default:
      return storedNameField(value);
  }
}

function currentValue(user: WordPressUser, field: ProfileField): string {
  return field === 'url' ? user.url.replace(/\/$/, '') : user[field];
}

function withUser(subject: ChangeSubject, user: WordPressUser): ChangeSubject {
  return { ...subject, wordpressId: user.id, wordpressLogin: user.username };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
