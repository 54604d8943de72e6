// What a job wants a WordPress user to look like, derived from one Entra user.
import type { ProfileField } from '../model/wordpress-user.ts';

export interface DesiredUser {
  objectId: string;
  userPrincipalName: string;
  /**
   * The mapped username as WordPress would store it (accents removed), or as mapped where
   * WordPress would refuse it; a new user may be given another (login-policy.ts).
   */
  login: string;
  email: string;
  /** WordPress profile fields by REST name (first_name, last_name, name, nickname…). */
  profile: Partial<Record<ProfileField, string>>;
  roles: string[];
  meta: Record<string, string>;
  guest: boolean;
  /**
   * Meta keys mapped to manager.wordpressUserId, filled once the page's accounts are
   * looked up (fillManagerUserIds), and the manager's object ID ('' without one).
   */
  managerUserId?: { managerObjectId: string; metaKeys: string[] };
}

/** A decision about an Entra user that needs no WordPress lookup (skips and mapping errors). */
export interface UnmappedUser {
  objectId: string;
  userPrincipalName: string;
  email?: string | undefined;
  outcome: 'skipped' | 'error';
  reason: string;
}
