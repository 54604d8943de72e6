// The planner's output: one decision per Entra user (and, at the end of a cycle, per
// WordPress user no longer in scope). The executor turns these into REST calls.
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { DesiredUser } from './desired-user.ts';

export interface ChangeSubject {
  objectId: string;
  userPrincipalName: string;
  email: string;
  wordpressId?: number | undefined;
  wordpressLogin?: string | undefined;
}

/** Fields for POST /wp/v2/users, without the password (added only when sent). */
export interface CreateBody {
  username: string;
  email: string;
  roles: string[];
  meta: Record<string, unknown>;
  [field: string]: unknown;
}

/** What an update or a restore writes to an existing WordPress user. */
export interface UserPatch {
  subject: ChangeSubject;
  desired: DesiredUser;
  user: WordPressUser;
  fields: string[];
  patch: Record<string, unknown>;
  /** Set when this links an account the job did not manage yet: the proof it is this person's. */
  adoption?: string | undefined;
  /** A network user who is not a member of this site yet: added with `patch.roles` first. */
  joinSite?: boolean | undefined;
}

export type Change =
  | { action: 'create'; subject: ChangeSubject; desired: DesiredUser; body: CreateBody }
  | ({ action: 'update' } & UserPatch)
  /** A user this sync disabled is back in scope: enabled again with the mapped roles. */
  | ({ action: 'restore' } & UserPatch)
  | { action: 'unchanged'; subject: ChangeSubject; desired: DesiredUser; user: WordPressUser }
  | { action: 'skipped'; subject: ChangeSubject; reason: string }
  /** An unproven adoption, waiting for a person's approval: nothing is written. */
  | { action: 'held'; subject: ChangeSubject; reason: string }
  | { action: 'error'; subject: ChangeSubject; reason: string };

export type ChangeAction = Change['action'];

export type WriteChange = Extract<Change, { action: 'create' | 'update' | 'restore' }>;

export function isWrite(change: Change): change is WriteChange {
  return change.action === 'create' || change.action === 'update' || change.action === 'restore';
}
