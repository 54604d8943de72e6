// Loads every WordPress user once per run: pages of 100 ordered by id (the default
// order, by name, is not unique and can skip users), several pages in parallel.
import pLimit from 'p-limit';
import type { WordPressClient } from './rest-client.ts';
import { userFields, type WordPressUser } from './wordpress-user.ts';

export interface LoadUsersOptions {
  /** Pages fetched at once after the first. */
  concurrency?: number;
}

const perPage = 100;

export async function loadAllUsers(
  client: WordPressClient,
  options: LoadUsersOptions = {},
): Promise<WordPressUser[]> {
  const fetchPage = (page: number) =>
    client.request<WordPressUser[]>('GET', '/wp/v2/users', {
      query: {
        context: 'edit',
        per_page: perPage,
        page,
        orderby: 'id',
        order: 'asc',
        _fields: userFields.join(','),
      },
    });
  const first = await fetchPage(1);
  const totalPages = Number(first.headers['x-wp-totalpages'] ?? 1);
  const limit = pLimit(options.concurrency ?? 4);
  const rest = await Promise.all(
    Array.from({ length: Math.max(0, totalPages - 1) }, (_, index) => limit(() => fetchPage(index + 2))),
  );
  const users = [first, ...rest].flatMap((response) => response.data.map(normaliseUser));
  // A user created while pages were read can shift ids across a page boundary.
  const byId = new Map(users.map((user) => [user.id, user]));
  return [...byId.values()];
}

function normaliseUser(user: Partial<WordPressUser> & { id: number }): WordPressUser {
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
  };
}
