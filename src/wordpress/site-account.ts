// The account the tool signs in as: who it is and whether it may manage users.
import { WordPressError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';

export interface SiteAccount {
  id: number;
  username: string;
  roles: string[];
  capabilities: Record<string, boolean>;
}

export const requiredCapabilities = [
  'list_users',
  'create_users',
  'edit_users',
  'promote_users',
  'delete_users',
] as const;

/** Verifies the application password first, because a wrong one on 6.1 is a generic 401. */
export async function fetchSiteAccount(client: WordPressClient): Promise<SiteAccount> {
  const response = await client.discoverRoutes<{
    id: number;
    username: string;
    roles: string[];
    capabilities: Record<string, boolean>;
  }>('/wp/v2/users/me', { context: 'edit', _fields: 'id,username,roles,capabilities' });
  const { id, username, roles, capabilities } = response.data;
  return { id, username, roles: roles ?? [], capabilities: capabilities ?? {} };
}

/**
 * Reads the users listing and the account's own user, so a site that took the users
 * routes away (user enumeration protection) stops the job before it writes, not user by
 * user. A removed route is thrown as WordPress's rest_no_route, which errors.ts words.
 */
export async function assertUsersRoutes(client: WordPressClient, account: SiteAccount): Promise<void> {
  await client.request('GET', '/wp/v2/users', { query: { context: 'edit', per_page: 1, _fields: 'id' } });
  await client.request('GET', `/wp/v2/users/${account.id}`, { query: { context: 'edit', _fields: 'id' } });
}

export function missingCapabilities(account: SiteAccount): string[] {
  return requiredCapabilities.filter((capability) => account.capabilities[capability] !== true);
}

export function assertCanManageUsers(account: SiteAccount, siteUrl: string): void {
  const missing = missingCapabilities(account);
  if (missing.length > 0) {
    throw new WordPressError(
      `The WordPress account "${account.username}" on ${siteUrl} lacks ${missing.join(', ')}.`,
      { hint: 'Use an administrator account (or grant those capabilities) for wordpress.username.' },
    );
  }
}
