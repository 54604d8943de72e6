// Carries out a plan with bounded concurrency. A write that fails for good
// becomes an error row and the others go on; a create that may have landed is looked
// up before it is tried again, so nobody is created twice.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import { type Change, type ChangeSubject, isWrite, type WriteChange } from '../rules/change.ts';
import { objectIdOf, type WordPressUserIndex } from '../rules/user-index.ts';
import { emailKey, loginKey } from '../rules/wordpress-normalise.ts';
import { WordPressRequestError } from '../wordpress/errors.ts';
import type { UserWrites } from '../wordpress/user-writes.ts';
import { KeyedLimiter } from './keyed-limiter.ts';

export type AppliedAction =
  | 'created'
  | 'adopted'
  | 'updated'
  | 'restored'
  | 'disabled'
  | 'deleted'
  | 'held'
  | 'unchanged'
  | 'skipped'
  | 'failed';

export interface AppliedChange {
  action: AppliedAction;
  subject: ChangeSubject;
  fields: string[];
  message: string;
  /** False for rows that only report (unchanged, skipped, errors found while planning). */
  written: boolean;
  /** A held row's kind: an adoption waiting for approval (held removals are apply-removals'). */
  hold?: 'adoption' | undefined;
}

export interface ApplyOptions {
  concurrency: number;
  /** Attempts at a create whose outcome is unknown (reset, timeout, 5xx). */
  createAttempts?: number;
}

export async function applyChanges(
  changes: readonly Change[],
  writes: UserWrites,
  index: WordPressUserIndex,
  options: ApplyOptions,
): Promise<AppliedChange[]> {
  const limiter = new KeyedLimiter(options.concurrency);
  return Promise.all(
    changes.map((change) => {
      if (!isWrite(change)) return Promise.resolve(reportOnly(change));
      return limiter.run(personKeys(change), () => applyWrite(change, writes, index, options));
    }),
  );
}

export function reportOnly(change: Change): AppliedChange {
  switch (change.action) {
    case 'unchanged':
      return { action: 'unchanged', subject: change.subject, fields: [], message: '', written: false };
    case 'skipped':
      return {
        action: 'skipped',
        subject: change.subject,
        fields: [],
        message: change.reason,
        written: false,
      };
    case 'error':
      return {
        action: 'failed',
        subject: change.subject,
        fields: [],
        message: change.reason,
        written: false,
      };
    case 'held':
      return {
        action: 'held',
        subject: change.subject,
        fields: [],
        message: change.reason,
        written: false,
        hold: 'adoption',
      };
    case 'create':
      return {
        action: 'created',
        subject: change.subject,
        fields: Object.keys(change.body),
        message: '',
        written: false,
      };
    case 'update':
      return {
        action: change.adoption ? 'adopted' : 'updated',
        subject: change.subject,
        fields: change.fields,
        message: change.adoption ?? '',
        written: false,
      };
    case 'restore':
      return {
        action: 'restored',
        subject: change.subject,
        fields: change.fields,
        message: change.adoption ?? '',
        written: false,
      };
  }
}

function personKeys(change: WriteChange): string[] {
  const keys = [`oid:${change.subject.objectId.toLowerCase()}`, `email:${emailKey(change.desired.email)}`];
  keys.push(`login:${loginKey(change.desired.login)}`);
  if (change.action !== 'create') keys.push(`wp:${change.user.id}`);
  return keys;
}

async function applyWrite(
  change: WriteChange,
  writes: UserWrites,
  index: WordPressUserIndex,
  options: ApplyOptions,
): Promise<AppliedChange> {
  try {
    if (change.action !== 'create') {
      // REST answers 404 for a network user who is not a member here: added first.
      if (change.joinSite) await writes.addMember(change.user.id, joinRole(change.patch));
      const user = await writes.update(change.user.id, change.patch);
      index.put(user);
      const action = change.action === 'restore' ? 'restored' : change.adoption ? 'adopted' : 'updated';
      return done(action, change.subject, user, change.fields, change.adoption ?? '');
    }
    return await createOnce(change, writes, index, options.createAttempts ?? 3);
  } catch (error) {
    return {
      action: 'failed',
      subject: change.subject,
      fields: change.action === 'create' ? [] : change.fields,
      message: failureReason(change.action === 'create' ? 'create' : 'update', error),
      written: false,
    };
  }
}

async function createOnce(
  change: Extract<Change, { action: 'create' }>,
  writes: UserWrites,
  index: WordPressUserIndex,
  attempts: number,
): Promise<AppliedChange> {
  for (let attempt = 1; ; attempt++) {
    try {
      // A fresh random password per user; it is sent once and never logged or stored.
      const user = await writes.create({ ...change.body, password: randomBytes(24).toString('base64url') });
      index.put(user);
      return done('created', change.subject, user, Object.keys(change.body), '');
    } catch (error) {
      const outcomeUnknown = error instanceof WordPressRequestError && error.transient;
      const exists =
        error instanceof WordPressRequestError &&
        (error.code === 'existing_user_login' || error.code === 'existing_user_email');
      const maybeLanded =
        outcomeUnknown || exists || (error instanceof WordPressRequestError && error.status === 400);
      if (!maybeLanded) throw error;
      const adopted = await adoptExisting(change, writes, index);
      if (adopted) return adopted;
      if (!outcomeUnknown || attempt >= attempts) throw error;
      await sleep(250 * 2 ** attempt);
    }
  }
}

/**
 * After an unclear create, the user may exist already (an earlier attempt landed). Only an
 * account carrying this person's marker is taken: the create writes it in the same request.
 * An account without one is somebody's that took the login or email meanwhile (or a create
 * whose meta failed, which the next run holds for approval), and linking it would hand it
 * this person's roles.
 */
async function adoptExisting(
  change: Extract<Change, { action: 'create' }>,
  writes: UserWrites,
  index: WordPressUserIndex,
): Promise<AppliedChange | undefined> {
  const found = await writes.findByLoginOrEmail(change.desired.login, change.desired.email);
  if (found.length === 0) return undefined;
  const mine = found.filter((user) => madeByThisAttempt(user, change.subject.objectId));
  if (mine.length !== 1 || found.length !== 1) {
    const list = found.map((user) => `#${user.id} ${user.username}`).join(', ');
    throw new Error(
      `WordPress already has ${list} with this username or email, not linked to this Entra user; check whose account it is, then link it (run again with --allow-adoptions) or resolve the duplicate in WordPress`,
    );
  }
  const existing = mine[0]!;
  const user = await writes.update(existing.id, {
    meta: change.body.meta,
    roles: change.body.roles,
    email: change.body.email,
  });
  index.put(user);
  return done(
    'created',
    change.subject,
    user,
    Object.keys(change.body),
    'found after an interrupted create and linked',
  );
}

/** The role a network user joins this site with; the update that follows sets them all. */
function joinRole(patch: Record<string, unknown>): string {
  const roles = Array.isArray(patch.roles) ? patch.roles.filter((role) => typeof role === 'string') : [];
  return roles[0] ?? 'subscriber';
}

function madeByThisAttempt(user: WordPressUser, objectId: string): boolean {
  return objectIdOf(user)?.toLowerCase() === objectId.toLowerCase();
}

function done(
  action: AppliedAction,
  subject: ChangeSubject,
  user: WordPressUser,
  fields: string[],
  message: string,
): AppliedChange {
  return {
    action,
    subject: { ...subject, wordpressId: user.id, wordpressLogin: user.username },
    fields,
    message,
    written: true,
  };
}

function failureReason(action: 'create' | 'update', error: unknown): string {
  const verb = action === 'create' ? 'create' : 'update';
  if (error instanceof WordPressRequestError) {
    return `WordPress refused to ${verb} the user: ${error.message}${error.hint ? ` (${error.hint})` : ''}`;
  }
  return `could not ${verb} the user: ${describeError(error)}`;
}
