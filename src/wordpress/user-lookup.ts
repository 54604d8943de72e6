// Finds only the WordPress users a delta run needs (companion plugin feature
// "user-lookup"), so ten changes never read a 10,000-user index.

import type { WordPressUser } from '../model/wordpress-user.ts';
import type { WordPressClient } from './rest-client.ts';
import { normaliseUser } from './user-index.ts';

export interface UserLookupKeys {
  objectIds?: readonly string[];
  emails?: readonly string[];
  logins?: readonly string[];
  /** Matches a login equal to the value or starting with "value@". */
  shortLogins?: readonly string[];
}

export interface UserLookup {
  users: WordPressUser[];
  /** Users marked as managed by the job asked about. */
  managed: number;
}

/** The plugin takes at most this many keys of each kind per request. */
const maxKeysPerRequest = 2000;

export async function lookupUsers(
  client: WordPressClient,
  keys: UserLookupKeys,
  job: string,
  objectIdKeys: readonly string[] = [],
): Promise<UserLookup> {
  const chunks = chunkKeys(keys);
  const byId = new Map<number, WordPressUser>();
  let managed = 0;
  for (const [index, chunk] of chunks.entries()) {
    const { data } = await client.request<{ users: WordPressUser[]; managed?: number }>(
      'POST',
      '/entra-wp-sync/v1/users/lookup',
      {
        body: {
          ...chunk,
          ...(index === 0 ? { job } : {}),
          ...(objectIdKeys.length > 0 ? { entra_wp_sync_id_keys: objectIdKeys } : {}),
        },
      },
    );
    for (const user of data.users) byId.set(user.id, normaliseUser(user));
    if (index === 0) managed = data.managed ?? 0;
  }
  return { users: [...byId.values()], managed };
}

function chunkKeys(keys: UserLookupKeys): UserLookupKeys[] {
  const kinds = ['objectIds', 'emails', 'logins', 'shortLogins'] as const;
  const longest = Math.max(1, ...kinds.map((kind) => keys[kind]?.length ?? 0));
  return Array.from({ length: Math.ceil(longest / maxKeysPerRequest) }, (_, index) =>
    Object.fromEntries(
      kinds.map((kind) => [
        kind,
        [...new Set(keys[kind] ?? [])].slice(index * maxKeysPerRequest, (index + 1) * maxKeysPerRequest),
      ]),
    ),
  );
}
