// What a job wants a WordPress user to look like, derived from one Entra user.
export interface DesiredUser {
  objectId: string;
  userPrincipalName: string;
  login: string;
  email: string;
  /** WordPress profile fields by REST name (first_name, last_name, name, nickname…). */
  profile: Partial<Record<ProfileField, string>>;
  roles: string[];
  meta: Record<string, string>;
  guest: boolean;
}

export const profileFields = [
  'first_name',
  'last_name',
  'name',
  'nickname',
  'description',
  'url',
  'locale',
] as const;
export type ProfileField = (typeof profileFields)[number];

/** A decision about an Entra user that needs no WordPress lookup (skips and mapping errors). */
export interface UnmappedUser {
  objectId: string;
  userPrincipalName: string;
  email?: string | undefined;
  outcome: 'skipped' | 'error';
  reason: string;
}
