// The job's WordPress site as a run finds it: the sync's account, the companion plugin and
// what it offers, and the checks that must pass before anything is written.
import type { ResolvedJob } from '../config/resolve.ts';
import type { SiteUsers } from '../engine/cycle-types.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import { type LoginRule, registrationRule } from '../rules/login-policy.ts';
import { loginKey } from '../rules/wordpress-normalise.ts';
import { type CompanionInfo, checkMappedRoles, fetchCompanionInfo } from '../wordpress/companion.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import {
  assertCanManageUsers,
  assertUsersRoutes,
  fetchSiteAccount,
  type SiteAccount,
} from '../wordpress/site-account.ts';
import { countUsers, fetchUser, loadAllUsers, scanUsers } from '../wordpress/user-index.ts';
import { lookupUsers } from '../wordpress/user-lookup.ts';
import { assertSiteKeepsState } from './connections.ts';

export interface JobSite {
  account: SiteAccount;
  /** Undefined where the site has no companion plugin. */
  companion: CompanionInfo | undefined;
}

/** Signs in, reads what the plugin offers, and refuses a job the site cannot carry out safely. */
export async function openJobSite(
  job: ResolvedJob,
  client: WordPressClient,
  options: {
    dryRun: boolean;
    logger: Logger;
    /** Told what the plugin offers as soon as it is read, even if the job is refused after. */
    onCompanion?: ((companion: CompanionInfo | undefined) => void) | undefined;
  },
): Promise<JobSite> {
  const { logger } = options;
  const account = await fetchSiteAccount(client);
  if (!options.dryRun) assertCanManageUsers(account, client.siteUrl);
  await assertUsersRoutes(client, account);
  // Throws where the plugin is installed but switched off: that site is refused, not taken
  // for one without the plugin.
  const companion = await fetchCompanionInfo(client);
  options.onCompanion?.(companion);
  if (companion) {
    checkMappedRoles(job, companion);
    if (companion.network && !companion.network.superAdmin && !options.dryRun)
      throw notNetworkAdmin(job.name, account, client.siteUrl);
    const refused = Object.keys(job.map.meta).filter((key) => !companion.allowedMetaKeys.includes(key));
    if (refused.length > 0) {
      logger.warn(
        `${job.name}: the site does not accept the meta keys ${refused.join(', ')}; add them to the entra_wp_sync_allowed_meta_keys option (or filter) on the site, or remove them from map.meta`,
      );
    }
  } else {
    assertWorksWithoutPlugin(job, client.siteUrl);
    logger.warn(
      `${job.name}: the companion plugin is not installed on ${client.siteUrl}; disabled users cannot be kept from signing in, roles are not checked, and existing accounts are linked by email or username without proof (adoption.withoutCompanionPlugin: link)`,
    );
  }
  if (job.wordpressEmails === 'quiet' && !companion?.features.includes('quiet-emails')) {
    logger.warn(
      companion
        ? `${job.name}: the companion plugin on ${client.siteUrl} is too old to keep WordPress's own emails about the sync's changes (email changed, password changed) quiet; update it, or set wordpressEmails: send to say they are wanted`
        : `${job.name}: without the companion plugin, WordPress sends its own emails about the sync's changes (email changed, password changed); install it to keep them quiet, or set wordpressEmails: send to say they are wanted`,
      { job: job.name, event: 'wordpress-emails-not-quiet' },
    );
  }
  assertSiteKeepsState(job, client.siteUrl, companion);
  return { account, companion };
}

/**
 * On a network, changing a user takes the network's manage_network_users, which a site's
 * administrator lacks: every write would fail one user at a time.
 */
function notNetworkAdmin(jobName: string, account: SiteAccount, siteUrl: string): ActionableError {
  return new ActionableError(
    `Job "${jobName}": ${siteUrl} is a site of a multisite network, and the sync's account ${account.username} is not a super admin there; on a network only a super admin may change users.`,
    {
      exitCode: ExitCode.usage,
      hint: 'Sign in as a super admin of the network (wordpress.username with its application password).',
    },
  );
}

/**
 * Without the companion plugin WordPress drops the sync's marker meta: nothing is ever
 * "managed", so removals would never find anyone, and whose an existing account is cannot
 * be shown. Both are refused before anything is written, unless the job accepts linking
 * without proof.
 */
function assertWorksWithoutPlugin(job: ResolvedJob, siteUrl: string): void {
  const install = 'Copy wordpress-plugin/entra-wp-sync.php into wp-content/mu-plugins/ on the site.';
  if (job.actions.delete !== 'none') {
    throw new ActionableError(
      `Job "${job.name}": actions.delete is ${job.actions.delete}, but ${siteUrl} has no companion plugin: WordPress drops the marker that says which users the job manages, so no one would ever be removed.`,
      { exitCode: ExitCode.usage, hint: `${install} Or set actions.delete: none.` },
    );
  }
  if (job.adoption.withoutCompanionPlugin !== 'link') {
    throw new ActionableError(
      `Job "${job.name}": ${siteUrl} has no companion plugin, so the sync can neither mark the accounts it manages nor tell whose an existing account is; linking by email or username would let a member who changes their email take over a joiner's account.`,
      {
        exitCode: ExitCode.usage,
        hint: `${install} Or, accepting that risk, set adoption.withoutCompanionPlugin: link.`,
      },
    );
  }
}

/** Roles no mapping may grant without roles.allowPrivileged; administrator even where the site cannot say. */
export function privilegedRolesOf(companion: CompanionInfo | undefined): Set<string> {
  const roles = new Set(['administrator']);
  for (const role of companion?.roles ?? []) if (role.privileged) roles.add(role.slug);
  return roles;
}

/** The companion plugin feature that takes adoption.writeObjectIdKeys. */
export const objectIdKeysFeature = 'object-id-keys';

/**
 * The keys whose object IDs the site is asked for: the proof keys, and the keys the job
 * writes, so it can see which of them an account still lacks.
 */
export function readObjectIdKeys(job: ResolvedJob): string[] {
  return [...new Set([...job.adoption.objectIdKeys, ...job.adoption.writeObjectIdKeys])];
}

/** A multisite network's rule for new users' logins (stricter), else a single site's. */
export function loginRuleOf(companion: CompanionInfo | undefined): LoginRule {
  const network = companion?.network;
  return network ? { kind: 'network', reservedLogins: network.illegalNames } : registrationRule;
}

/** Where a run finds the site's users: the whole index once, or by key through the plugin. */
export function siteUsersFor(
  client: WordPressClient,
  companion: CompanionInfo | undefined,
  job: string,
  objectIdKeys: readonly string[],
): SiteUsers {
  let everyone: Promise<WordPressUser[]> | undefined;
  const features = companion?.features ?? [];
  const listing = { compact: features.includes('user-index'), objectIdKeys };
  return {
    all: () => {
      everyone ??= loadAllUsers(client, listing);
      return everyone;
    },
    count: () => countUsers(client, listing),
    scan: (visit) => scanUsers(client, listing, visit),
    find: features.includes('user-lookup')
      ? (keys) => lookupUsers(client, keys, job, objectIdKeys)
      : undefined,
  };
}

/** Checked before anything is written, so a typo cannot strand deleted users' posts. */
export async function resolveReassignTarget(
  job: ResolvedJob,
  client: WordPressClient,
  users: SiteUsers,
): Promise<number | undefined> {
  if (job.actions.delete !== 'hard') return undefined;
  const target = String(job.actions.reassignPostsTo);
  const user = /^\d+$/.test(target)
    ? await fetchUser(client, Number(target))
    : (users.find ? (await users.find({ logins: [target] })).users : await users.all()).find(
        (candidate) => loginKey(candidate.username) === loginKey(target),
      );
  if (!user) {
    throw new ActionableError(
      `Job "${job.name}": actions.reassignPostsTo "${target}" is not a user on ${job.wordpress.url}.`,
      {
        exitCode: ExitCode.usage,
        hint: "Name the login or user ID of an existing account that should receive deleted users' posts.",
      },
    );
  }
  return user.id;
}
