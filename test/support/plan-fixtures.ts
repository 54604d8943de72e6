// What the planner's tests share: a job's plan settings and mapping, an Entra user mapped
// as a run maps it, WordPress users as the REST API returns them after a create, and one
// call that plans Entra users against WordPress users with only what a case changes.
import { parseMapping } from '../../src/config/mapping.ts';
import type { WordPressUser } from '../../src/model/wordpress-user.ts';
import { CycleClaims } from '../../src/rules/claims.ts';
import type { DesiredUser } from '../../src/rules/desired-user.ts';
import { mapEntraUser, type UserMappingSettings } from '../../src/rules/map-user.ts';
import { type PlanInput, type PlanSettings, planChanges } from '../../src/rules/plan.ts';
import { WordPressUserIndex } from '../../src/rules/user-index.ts';

export type EntraFixture = Record<string, unknown> & { id: string };

export const planSettings: PlanSettings = {
  jobName: 'staff',
  match: ['objectId', 'email', 'username'],
  create: true,
  update: true,
  rolesMode: 'replace',
  manageAdministrators: false,
  adoption: { objectIdKeys: ['aadObjectId'] },
  privilegedRoles: new Set(['administrator']),
};

export const planMapping: UserMappingSettings = {
  map: {
    user_login: parseMapping('userPrincipalName'),
    user_email: parseMapping(['mail', 'otherMails', 'userPrincipalName']),
    first_name: parseMapping('givenName'),
    last_name: parseMapping('surname'),
    display_name: parseMapping(['displayName', '{givenName} {surname}']),
    meta: { department: parseMapping('department') },
  },
  guests: 'ignore',
  defaultRole: 'subscriber',
};

/** The Entra user most cases plan. */
export const ada = {
  id: '11111111-1111-4111-8111-111111111111',
  userPrincipalName: 'ada@contoso.com',
  mail: 'Ada.Lovelace@contoso.com',
  givenName: 'Ada',
  surname: 'Lovelace',
  displayName: 'Ada Lovelace',
  department: 'Engines',
};

/** An Entra user as the job's mapping makes it; throws for one the mapping cannot map. */
export function desired(entra: EntraFixture): DesiredUser {
  const result = mapEntraUser(entra, planMapping);
  if (!('login' in result)) throw new Error(`unmappable: ${result.reason}`);
  return result;
}

/** What WordPress would store for a create body (it returns these fields). */
export function storedFrom(id: number, body: Record<string, unknown>): WordPressUser {
  return {
    id,
    username: String(body.username),
    email: String(body.email),
    roles: body.roles as string[],
    first_name: String(body.first_name ?? ''),
    last_name: String(body.last_name ?? ''),
    name: String(body.name ?? ''),
    nickname: String(body.nickname ?? body.username),
    description: '',
    url: '',
    locale: '',
    meta: body.meta as Record<string, unknown>,
  };
}

/**
 * Ada as the site holds her once the job has written her (its marker meta included), with
 * the create-body fields a case changes (username, email, roles, names, meta).
 */
export function storedAda(id: number, changes: Record<string, unknown> = {}): WordPressUser {
  return storedFrom(id, {
    username: 'ada@contoso.com',
    email: ada.mail,
    roles: ['subscriber'],
    first_name: 'Ada',
    last_name: 'Lovelace',
    name: 'Ada Lovelace',
    meta: { entra_wp_sync_object_id: ada.id, entra_wp_sync_jobs: ['staff'], department: 'Engines' },
    ...changes,
  });
}

export interface PlanCase extends Omit<Partial<PlanInput>, 'desired' | 'index' | 'settings'> {
  /** The Entra users of the page (default: Ada). */
  entra?: EntraFixture[];
  /** The site's users (default: none). */
  wordpress?: WordPressUser[];
  /** What differs from planSettings. */
  settings?: Partial<PlanSettings>;
}

/** The planner's input for one page: the shared settings with what the case changes. */
export function planInput(planCase: PlanCase = {}): PlanInput {
  const { entra = [ada], wordpress = [], settings = {}, ...rest } = planCase;
  return {
    desired: entra.map(desired),
    unmapped: [],
    index: new WordPressUserIndex(wordpress),
    settings: { ...planSettings, ...settings },
    claims: new CycleClaims(),
    ...rest,
  };
}

/** The changes planned for one page (see planInput). */
export const planFor = (planCase: PlanCase = {}) => planChanges(planInput(planCase));
