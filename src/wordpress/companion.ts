// What the companion plugin on the site offers (GET /entra-wp-sync/v1/info); a site
// without it still works over core REST, with fewer features. A plugin that switched itself
// off (its PHP is too old) stops the job instead.
import { ActionableError, ExitCode } from '../errors.ts';
import { WordPressRequestError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';

export interface CompanionInfo {
  version: string;
  features: string[];
  allowedMetaKeys: string[];
  roles: Array<{ slug: string; name: string; privileged: boolean }>;
  /** The multisite network the site is part of; null (or missing, older plugins) on a single site. */
  network?: CompanionNetwork | null | undefined;
}

export interface CompanionNetwork {
  blogId: number;
  mainSite: boolean;
  /** Whether the sync's own account is a super admin of the network. */
  superAdmin: boolean;
  /** Logins the network never gives (its illegal_names). */
  illegalNames: string[];
}

/** What the plugin's info route answers when it switched itself off on the site. */
interface SwitchedOffAnswer {
  version: string;
  active: false;
  reason?: string;
  /** The PHP version the site runs and the oldest the plugin runs on. */
  php?: string;
  requiresPhp?: string;
}

/**
 * The plugin is installed but switched itself off (the site's PHP is older than it runs
 * on): it keeps no one out and records nothing, so the site is neither one with the plugin
 * nor one without it, and nothing may be synced to it.
 */
export class CompanionSwitchedOffError extends ActionableError {}

/**
 * The active plugin's info, or undefined where the site has none. Throws
 * CompanionSwitchedOffError where the plugin is installed but switched off.
 */
export async function fetchCompanionInfo(client: WordPressClient): Promise<CompanionInfo | undefined> {
  let answer: CompanionInfo | SwitchedOffAnswer;
  try {
    answer = (await client.request<CompanionInfo | SwitchedOffAnswer>('GET', '/entra-wp-sync/v1/info')).data;
  } catch (error) {
    if (error instanceof WordPressRequestError && error.code === 'rest_no_route') return undefined;
    throw error;
  }
  // Plugins older than the `active` field always ran when they answered.
  if ('active' in answer && answer.active === false) throw switchedOff(answer, client.siteUrl);
  return answer as CompanionInfo;
}

function switchedOff(answer: SwitchedOffAnswer, siteUrl: string): CompanionSwitchedOffError {
  const needs = answer.requiresPhp ?? '8.1';
  const why = answer.php
    ? `the site runs PHP ${answer.php} and the plugin needs PHP ${needs} or newer`
    : (answer.reason ?? `the plugin needs PHP ${needs} or newer`);
  return new CompanionSwitchedOffError(
    `The companion plugin ${answer.version} on ${siteUrl} is switched off: ${why}. Disabled users are not kept from signing in and the sync cannot tell which accounts it manages, so nothing is synced to this site.`,
    {
      exitCode: ExitCode.usage,
      hint: `Upgrade PHP on the site to ${needs} or newer (your host's PHP settings); the plugin switches itself on again by itself.`,
    },
  );
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
