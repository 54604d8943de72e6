// Loads every WordPress user once per run, ordered by id (the default order, by name,
// is not unique and can skip users), several pages in parallel. The companion plugin's
// compact index serves 1,000 users a page; core REST serves 100.
import pLimit from 'p-limit';
import { type AccountIdentity, userFields, type WordPressUser } from '../model/wordpress-user.ts';
import { WordPressRequestError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';

export interface LoadUsersOptions {
  /** Pages fetched at once after the first. */
  concurrency?: number;
  /** The site has the companion plugin's compact index (feature "user-index"). */
  compact?: boolean;
  /** User meta keys other tools keep Entra object IDs in, served by the companion plugin. */
  objectIdKeys?: readonly string[];
}

/** The query parameter the companion plugin reads `objectIdKeys` from. */
export function objectIdKeysQuery(keys: readonly string[] | undefined): Record<string, string> {
  return keys && keys.length > 0 ? { entra_wp_sync_id_keys: keys.join(',') } : {};
}

const corePerPage = 100;
const compactPerPage = 1000;

export async function loadAllUsers(
  client: WordPressClient,
  options: LoadUsersOptions = {},
): Promise<WordPressUser[]> {
  // A user created while pages were read can shift ids across a page boundary.
  const byId = new Map<number, WordPressUser>();
  await scanUsers(client, options, (users) => {
    for (const user of users) byId.set(user.id, user);
  });
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** Every user, page by page (normalised), to `visit`; pages come in no particular order. */
export async function scanUsers(
  client: WordPressClient,
  options: LoadUsersOptions,
  visit: (users: WordPressUser[]) => void,
): Promise<void> {
  const fetchPage = options.compact
    ? (page: number) =>
        client.request<WordPressUser[]>('GET', '/entra-wp-sync/v1/users', {
          query: { per_page: compactPerPage, page, ...objectIdKeysQuery(options.objectIdKeys) },
        })
    : (page: number) =>
        client.request<WordPressUser[]>('GET', '/wp/v2/users', {
          query: {
            context: 'edit',
            per_page: corePerPage,
            page,
            orderby: 'id',
            order: 'asc',
            _fields: userFields.join(','),
            ...objectIdKeysQuery(options.objectIdKeys),
          },
        });
  // Pages are normalised as they arrive so raw JSON never piles up (100,000 users).
  const keep = (response: { data: WordPressUser[] }) => visit(response.data.map(normaliseUser));
  const first = await fetchPage(1);
  const totalPages = Number(first.headers['x-wp-totalpages'] ?? 1);
  keep(first);
  const limit = pLimit(options.concurrency ?? 4);
  await Promise.all(
    Array.from({ length: Math.max(0, totalPages - 1) }, (_, index) =>
      limit(async () => keep(await fetchPage(index + 2))),
    ),
  );
}

/** How many users the site has (X-WP-Total of a one-user page). */
export async function countUsers(client: WordPressClient, options: LoadUsersOptions = {}): Promise<number> {
  const response = options.compact
    ? await client.request<unknown[]>('GET', '/entra-wp-sync/v1/users', {
        query: { per_page: 1, _fields: 'id' },
      })
    : await client.request<unknown[]>('GET', '/wp/v2/users', {
        query: { context: 'edit', per_page: 1, _fields: 'id' },
      });
  return Number(response.headers['x-wp-total'] ?? response.data.length);
}

/** One user by id, or undefined when the site has none. */
export async function fetchUser(client: WordPressClient, id: number): Promise<WordPressUser | undefined> {
  try {
    const { data } = await client.request<WordPressUser>('GET', `/wp/v2/users/${id}`, {
      query: { context: 'edit', _fields: userFields.join(',') },
    });
    return normaliseUser(data);
  } catch (error) {
    if (error instanceof WordPressRequestError && error.status === 404) return undefined;
    throw error;
  }
}

export function normaliseUser(user: Partial<WordPressUser> & { id: number }): WordPressUser {
  return {
    id: user.id,
    username: user.username ?? '',
    email: user.email ?? '',
    roles: user.roles ?? [],
    first_name: user.first_name ?? '',
    last_name: user.last_name ?? '',
    name: user.name ?? '',
    nickname: user.nickname ?? '',
    description: user.description ?? '',
    url: user.url ?? '',
    locale: user.locale ?? '',
    meta: Array.isArray(user.meta) ? {} : (user.meta ?? {}),
    entra_wp_sync_identity: normaliseIdentity(user.entra_wp_sync_identity),
    ...(typeof user.member === 'boolean' ? { member: user.member } : {}),
    ...(user.superAdmin === true ? { superAdmin: true } : {}),
  };
}

function normaliseIdentity(identity: AccountIdentity | null | undefined): AccountIdentity | undefined {
  if (!identity || typeof identity.registeredAt !== 'string') return undefined;
  const linked = identity.linkedObjectIds;
  return {
    registeredAt: identity.registeredAt,
    identityChangedAt: typeof identity.identityChangedAt === 'string' ? identity.identityChangedAt : null,
    // PHP sends an empty object as [].
    linkedObjectIds: linked && !Array.isArray(linked) ? linked : {},
  };
}
