// The approval an administrator gave on the site (Users → Entra ID sync), for a run of a
// job: read before the cycle, joined to the run's own (src/rules/approvals.ts judges them
// against the held list), and removed once the held list it named is gone, so it is used
// for that list only.
import { describeError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { SiteApproval } from '../rules/approvals.ts';
import type { StateStore } from '../state/state-store.ts';
import type { CompanionInfo } from '../wordpress/companion.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import { clearSiteApproval, readSiteApproval, siteApprovalsFeature } from '../wordpress/site-approvals.ts';

/**
 * The site's approval for the job, where the plugin keeps them. sync-user has no held
 * list of its own to approve. One that cannot be read approves nothing: the run holds
 * what needs approval, as without it, and says why.
 */
export async function siteApprovalFor(
  jobName: string,
  client: WordPressClient,
  companion: CompanionInfo | undefined,
  options: { singleUser?: string | undefined; logger: Logger },
): Promise<SiteApproval | undefined> {
  if (options.singleUser || !companion?.features.includes(siteApprovalsFeature)) return undefined;
  try {
    const approval = await readSiteApproval(client, jobName);
    if (approval) {
      options.logger.info(
        `${jobName}: held list of run ${approval.heldRunId} approved in wp-admin by ${approval.by} at ${approval.at}`,
        { job: jobName, event: 'site-approval' },
      );
    }
    return approval;
  } catch (error) {
    options.logger.warn(`${jobName}: ${describeError(error)}`, {
      job: jobName,
      event: 'site-approval-unreadable',
    });
    return undefined;
  }
}

/**
 * After a run: the approval is removed once the job's held list is no longer the one it
 * was given for (this run applied it at the end of its cycle, or held a new list). While
 * that list is still held (its cycle goes on over more runs), it keeps approving it.
 */
export async function settleSiteApproval(
  jobName: string,
  approval: SiteApproval,
  client: WordPressClient,
  store: StateStore,
  logger: Logger,
): Promise<void> {
  try {
    const held = (await store.load(jobName))?.held;
    if (held?.runId === approval.heldRunId) return;
    if (await clearSiteApproval(client, jobName, approval.heldRunId)) {
      logger.info(
        `${jobName}: the approval given in wp-admin for run ${approval.heldRunId}'s held list is used up and was removed from the site`,
        { job: jobName, event: 'site-approval-cleared' },
      );
    }
  } catch (error) {
    logger.warn(
      `${jobName}: the approval given in wp-admin for run ${approval.heldRunId}'s held list could not be removed from the site (${describeError(error)}); it approves nothing more, since that list is no longer held.`,
      { job: jobName, event: 'site-approval-not-cleared' },
    );
  }
}
