// The shape of a WordPress user as the REST API returns it with context=edit.
export interface WordPressUser {
  id: number;
  username: string;
  email: string;
  roles: string[];
  first_name: string;
  last_name: string;
  /** display_name */
  name: string;
  nickname: string;
  description: string;
  url: string;
  locale: string;
  meta: Record<string, unknown>;
  /** Served by the companion plugin only: what an adoption needs to know about the account. */
  entra_wp_sync_identity?: AccountIdentity | undefined;
  /**
   * On a multisite network (companion plugin lookups): false for a network user who is not
   * a member of this site; their `roles` are then empty. Undefined on a single site.
   */
  member?: boolean | undefined;
  /** On a network: a super admin, whom the sync never changes. */
  superAdmin?: boolean | undefined;
}

export interface AccountIdentity {
  /** When the account was registered (RFC 3339, UTC). */
  registeredAt: string;
  /** Last change of its email or login by anyone but the sync, if any since the plugin was installed. */
  identityChangedAt: string | null;
  /** Entra object IDs other tools stored on the account, by their meta key (e.g. WPO365's aadObjectId). */
  linkedObjectIds: Record<string, string>;
}

/** WordPress's profile fields by REST name: what a job's map may set on a user. */
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

/** The fields the sync reads of a user (`_fields`). */
export const userFields = [
  'id',
  'username',
  'email',
  'roles',
  ...profileFields,
  'meta',
  'entra_wp_sync_identity',
] as const;
