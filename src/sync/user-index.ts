// The WordPress users of a run, indexed the ways SPEC §4.3 matches them.
import { metaKeys } from '../wordpress/meta-keys.ts';
import type { WordPressUser } from '../wordpress/wordpress-user.ts';
import { emailKey, loginKey } from './wordpress-normalise.ts';

export class WordPressUserIndex {
  readonly #byId = new Map<number, WordPressUser>();
  readonly #byObjectId = new Map<string, Set<number>>();
  readonly #byEmail = new Map<string, Set<number>>();
  readonly #byLogin = new Map<string, Set<number>>();
  readonly #byShortLogin = new Map<string, Set<number>>();

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
    add(this.#byShortLogin, shortLogin(user.username), user.id);
  }

  remove(id: number): void {
    const user = this.#byId.get(id);
    if (!user) return;
    this.#byId.delete(id);
    const objectId = objectIdOf(user);
    if (objectId) drop(this.#byObjectId, objectId.toLowerCase(), id);
    if (user.email) drop(this.#byEmail, emailKey(user.email), id);
    drop(this.#byLogin, loginKey(user.username), id);
    drop(this.#byShortLogin, shortLogin(user.username), id);
  }

  byObjectId(objectId: string): WordPressUser[] {
    return this.#lookup(this.#byObjectId, objectId.toLowerCase());
  }

  byEmail(email: string): WordPressUser[] {
    return this.#lookup(this.#byEmail, emailKey(email));
  }

  byLogin(login: string): WordPressUser[] {
    return this.#lookup(this.#byLogin, loginKey(login));
  }

  /** Users whose login, or the part of it before "@", equals `value` before its "@". */
  byShortLogin(value: string): WordPressUser[] {
    return this.#lookup(this.#byShortLogin, shortLogin(value));
  }

  #lookup(map: Map<string, Set<number>>, key: string): WordPressUser[] {
    const ids = map.get(key);
    if (!ids) return [];
    return [...ids]
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

function shortLogin(login: string): string {
  return loginKey(login).split('@')[0] ?? '';
}

function add(map: Map<string, Set<number>>, key: string, id: number): void {
  let ids = map.get(key);
  if (!ids) {
    ids = new Set();
    map.set(key, ids);
  }
  ids.add(id);
}

function drop(map: Map<string, Set<number>>, key: string, id: number): void {
  const ids = map.get(key);
  if (!ids) return;
  ids.delete(id);
  if (ids.size === 0) map.delete(key);
}
