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
 * No mapping may grant a role that can manage options or promote users unless
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
    writtenAt?: Record<string, string> | undefined;
  },
  info: CompanionInfo,
): void {
  const mapped: Array<[key: string, slug: string | undefined]> = [
    ['roles.default', job.roles.default],
    ['roles.guestRole', job.roles.guestRole],
    ...job.roles.rules.map((rule, index): [string, string] => [`roles.rules[${index}].role`, rule.role]),
  ];
  for (const [key, slug] of mapped) {
    if (!slug) continue;
    // "jobs.yaml:14:16 jobs[0].roles.default: …" when the role is written in the file.
    const where = job.writtenAt?.[key];
    const about = (problem: string) =>
      where ? `${where}: ${problem} (job "${job.name}").` : `Job "${job.name}": ${problem}.`;
    const role = info.roles.find((candidate) => candidate.slug === slug);
    if (!role) {
      throw new ActionableError(about(`the site has no role "${slug}"`), {
        exitCode: ExitCode.usage,
        hint: `Roles on the site: ${info.roles.map((candidate) => candidate.slug).join(', ')}.`,
      });
    }
    if (role.privileged && !job.roles.allowPrivileged) {
      throw new ActionableError(
        about(`role "${slug}" can manage options or promote users on this site; the sync will not grant it`),
        { exitCode: ExitCode.usage, hint: 'Set roles.allowPrivileged: true if you really mean it.' },
      );
    }
  }
}
