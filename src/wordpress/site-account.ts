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
