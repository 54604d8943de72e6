// The WordPress users of a run, indexed the ways a job matches them.
import { metaKeys } from '../model/meta-keys.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import { emailKey, loginKey } from './wordpress-normalise.ts';

export class WordPressUserIndex {
  readonly #byId = new Map<number, WordPressUser>();
  // Almost every key names one user: a plain id, an array only when shared (a Set per
  // key would cost ~100 MB on a 100,000-user site).
  readonly #byObjectId = new Map<string, Ids>();
  readonly #byEmail = new Map<string, Ids>();
  readonly #byLogin = new Map<string, Ids>();
  /** Object IDs other tools stored (e.g. WPO365's aadObjectId); few users have them. */
  readonly #byLinkedId = new Map<string, Ids>();
  /** Built on first use: only jobs matching by shortLogin need it. */
  #byShortLogin: Map<string, Ids> | undefined;

  constructor(users: Iterable<WordPressUser> = []) {
    for (const user of users) this.put(user);
  }

  get size(): number {
    return this.#byId.size;
  }

  users(): IterableIterator<WordPressUser> {
    return this.#byId.values();
  }

  get(id: number): WordPressUser | undefined {
    return this.#byId.get(id);
  }

  /** Adds or replaces a user (after a create or an update), keeping every key current. */
  put(user: WordPressUser): void {
    this.remove(user.id);
    this.#byId.set(user.id, user);
    const objectId = objectIdOf(user);
    if (objectId) add(this.#byObjectId, objectId.toLowerCase(), user.id);
    if (user.email) add(this.#byEmail, emailKey(user.email), user.id);
    add(this.#byLogin, loginKey(user.username), user.id);
    if (this.#byShortLogin) add(this.#byShortLogin, shortLogin(user.username), user.id);
    for (const linked of linkedObjectIdsOf(user)) add(this.#byLinkedId, linked, user.id);
  }

  remove(id: number): void {
    const user = this.#byId.get(id);
    if (!user) return;
    this.#byId.delete(id);
    const objectId = objectIdOf(user);
    if (objectId) drop(this.#byObjectId, objectId.toLowerCase(), id);
    if (user.email) drop(this.#byEmail, emailKey(user.email), id);
    drop(this.#byLogin, loginKey(user.username), id);
    if (this.#byShortLogin) drop(this.#byShortLogin, shortLogin(user.username), id);
    for (const linked of linkedObjectIdsOf(user)) drop(this.#byLinkedId, linked, id);
  }

  byObjectId(objectId: string): WordPressUser[] {
    return this.#lookup(this.#byObjectId, objectId.toLowerCase());
  }

  /** Users another tool linked to this Entra object ID under one of its own meta keys. */
  byLinkedObjectId(objectId: string): WordPressUser[] {
    return this.#lookup(this.#byLinkedId, objectId.toLowerCase());
  }

  byEmail(email: string): WordPressUser[] {
    return this.#lookup(this.#byEmail, emailKey(email));
  }

  byLogin(login: string): WordPressUser[] {
    return this.#lookup(this.#byLogin, loginKey(login));
  }

  /** Users whose login, or the part of it before "@", equals `value` before its "@". */
  byShortLogin(value: string): WordPressUser[] {
    if (!this.#byShortLogin) {
      this.#byShortLogin = new Map();
      for (const user of this.#byId.values()) add(this.#byShortLogin, shortLogin(user.username), user.id);
    }
    return this.#lookup(this.#byShortLogin, shortLogin(value));
  }

  #lookup(map: Map<string, Ids>, key: string): WordPressUser[] {
    const ids = map.get(key);
    if (ids === undefined) return [];
    return (typeof ids === 'number' ? [ids] : ids)
      .map((id) => this.#byId.get(id))
      .filter((user): user is WordPressUser => user !== undefined);
  }
}

export function objectIdOf(user: WordPressUser): string | undefined {
  const value = user.meta[metaKeys.objectId];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function jobsOf(user: WordPressUser): string[] {
  const value = user.meta[metaKeys.jobs];
  return Array.isArray(value) ? value.filter((job): job is string => typeof job === 'string') : [];
}

/** Lower-case object IDs other tools stored on the account, once each. */
export function linkedObjectIdsOf(user: WordPressUser): string[] {
  const linked = user.entra_wp_sync_identity?.linkedObjectIds;
  if (!linked) return [];
  return [...new Set(Object.values(linked).map((id) => id.toLowerCase()))];
}

function shortLogin(login: string): string {
  return loginKey(login).split('@')[0] ?? '';
}

type Ids = number | number[];

function add(map: Map<string, Ids>, key: string, id: number): void {
  const ids = map.get(key);
  if (ids === undefined) map.set(key, id);
  else if (typeof ids === 'number') {
    if (ids !== id) map.set(key, [ids, id]);
  } else if (!ids.includes(id)) ids.push(id);
}

function drop(map: Map<string, Ids>, key: string, id: number): void {
  const ids = map.get(key);
  if (ids === undefined) return;
  if (typeof ids === 'number') {
    if (ids === id) map.delete(key);
    return;
  }
  const rest = ids.filter((other) => other !== id);
  if (rest.length === 0) map.delete(key);
  else map.set(key, rest.length === 1 ? rest[0]! : rest);
}
