// What the companion plugin on the site offers (GET /entra-wp-sync/v1/info); a site
// without it still works over core REST, with fewer features.
import { ActionableError, ExitCode } from '../errors.ts';
import { WordPressRequestError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';

export interface CompanionInfo {
  version: string;
  features: string[];
  allowedMetaKeys: string[];
  roles: Array<{ slug: string; name: string; privileged: boolean }>;
}

export async function fetchCompanionInfo(client: WordPressClient): Promise<CompanionInfo | undefined> {
  try {
    return (await client.request<CompanionInfo>('GET', '/entra-wp-sync/v1/info')).data;
  } catch (error) {
    if (error instanceof WordPressRequestError && error.code === 'rest_no_route') return undefined;
    throw error;
  }
}

/**
 * SPEC §8: no mapping may grant a role that can manage options or promote users unless
 * the job says allowPrivileged; a role the site does not have is a typo.
 */
export function checkMappedRoles(
  job: {
    name: string;
    roles: {
      default: string;
      guestRole?: string | undefined;
      rules: Array<{ role: string }>;
      allowPrivileged: boolean;
    };
  },
  info: CompanionInfo,
): void {
  const mapped = new Set([
    job.roles.default,
    job.roles.guestRole,
    ...job.roles.rules.map((rule) => rule.role),
  ]);
  for (const slug of mapped) {
    if (!slug) continue;
    const role = info.roles.find((candidate) => candidate.slug === slug);
    if (!role) {
      throw new ActionableError(`Job "${job.name}": the site has no role "${slug}".`, {
        exitCode: ExitCode.usage,
        hint: `Roles on the site: ${info.roles.map((candidate) => candidate.slug).join(', ')}.`,
      });
    }
    if (role.privileged && !job.roles.allowPrivileged) {
      throw new ActionableError(
        `Job "${job.name}": role "${slug}" can manage options or promote users on this site; the sync will not grant it.`,
        { exitCode: ExitCode.usage, hint: 'Set roles.allowPrivileged: true if you really mean it.' },
      );
    }
  }
}
