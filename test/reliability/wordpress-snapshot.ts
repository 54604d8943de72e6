// What the fault and crash suites compare: the site's users without WordPress ids, so that
// a run under faults can be held against a clean run of the same tenant, and the
// invariants that must hold at any moment, even right after a kill -9.
import { expect } from 'vitest';
import type { WordPressUser } from '../../src/model/wordpress-user.ts';
import { adminHeaders, type WordPressSite } from '../support/wordpress-site.ts';

export interface SnapshotUser {
  login: string;
  email: string;
  firstName: string;
  lastName: string;
  displayName: string;
  nickname: string;
  roles: string[];
  /** The sync's own meta (entra_wp_sync_*), keys sorted. */
  meta: Record<string, unknown>;
}

type RestSite = Pick<WordPressSite, 'restUrl' | 'adminUser' | 'appPassword'>;

/** Every user of the site as the REST API shows an administrator (context=edit). */
export async function siteUsers(site: RestSite): Promise<WordPressUser[]> {
  const users: WordPressUser[] = [];
  for (let page = 1; ; page++) {
    const response = await fetch(
      `${site.restUrl}wp/v2/users?context=edit&per_page=100&page=${page}&orderby=id`,
      { headers: adminHeaders(site as WordPressSite) },
    );
    if (!response.ok) throw new Error(`GET users page ${page}: ${response.status} ${await response.text()}`);
    users.push(...((await response.json()) as WordPressUser[]));
    if (page >= Number(response.headers.get('x-wp-totalpages') ?? 1)) return users;
  }
}

/** The users, normalised and sorted by login: what two runs that agree must both produce. */
export function normalise(users: readonly WordPressUser[]): SnapshotUser[] {
  return users
    .map((user) => ({
      login: user.username,
      email: user.email,
      firstName: user.first_name,
      lastName: user.last_name,
      displayName: user.name,
      nickname: user.nickname,
      roles: [...user.roles].sort(),
      meta: Object.fromEntries(
        Object.entries(user.meta ?? {})
          .filter(([key]) => key.startsWith('entra_wp_sync_'))
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    }))
    .sort((a, b) => a.login.localeCompare(b.login));
}

export async function snapshot(site: RestSite): Promise<SnapshotUser[]> {
  return normalise(await siteUsers(site));
}

export const objectIdOf = (user: WordPressUser): string =>
  String(user.meta?.entra_wp_sync_object_id ?? '').toLowerCase();

/** No Entra user twice: one WordPress user per object ID and per email. */
export function expectNoDuplicates(users: readonly WordPressUser[]): void {
  const ids = users.map(objectIdOf).filter(Boolean);
  expect(duplicates(ids), 'object IDs linked to more than one WordPress user').toEqual([]);
  const emails = users.map((user) => user.email.toLowerCase());
  expect(duplicates(emails), 'emails used by more than one WordPress user').toEqual([]);
}

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) twice.add(value);
    seen.add(value);
  }
  return [...twice].sort();
}

/** A snapshot user's key: the Entra object ID it is linked to, else (the site's own accounts) its login. */
export const keyOf = (user: SnapshotUser): string =>
  user.meta.entra_wp_sync_object_id
    ? `object ${String(user.meta.entra_wp_sync_object_id)}`
    : `login ${user.login}`;

/**
 * Where two snapshots differ, by object ID: an empty list means they agree. Easier to read
 * in a failure than a diff of hundreds of users.
 */
export function differences(actual: readonly SnapshotUser[], expected: readonly SnapshotUser[]): string[] {
  const byKey = (users: readonly SnapshotUser[]) => new Map(users.map((user) => [keyOf(user), user]));
  const got = byKey(actual);
  const want = byKey(expected);
  const found: string[] = [];
  if (got.size !== actual.length) found.push(`${actual.length - got.size} users share a key with another`);
  for (const [key, user] of want) {
    const other = got.get(key);
    if (!other) found.push(`missing ${key} (${user.login})`);
    else if (JSON.stringify(other) !== JSON.stringify(user))
      found.push(`differs ${key}: ${JSON.stringify(other)} instead of ${JSON.stringify(user)}`);
  }
  for (const [key, user] of got) if (!want.has(key)) found.push(`unexpected ${key} (${user.login})`);
  return found;
}
