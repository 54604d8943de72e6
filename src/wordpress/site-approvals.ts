// Approvals given on the site (Users → Entra ID sync in wp-admin), kept by the companion
// plugin: read at the start of a run, cleared once the held list they name is gone. Whether
// one approves anything is for src/rules/approvals.ts to say.
import { z } from 'zod';
import type { SiteApproval } from '../rules/approvals.ts';
import { WordPressError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';

/** The companion plugin's feature name for approvals given in wp-admin. */
export const siteApprovalsFeature = 'site-approvals';

const login = z.string().min(1).max(200);

const siteApprovalSchema = z.object({
  heldRunId: z.string().min(1).max(200),
  removals: z.array(z.number().int().positive()),
  adoptions: z.array(
    z.object({ objectId: z.string().min(1).max(100), wordpressId: z.number().int().positive() }),
  ),
  by: login,
  removalsBy: login.optional(),
  adoptionsBy: login.optional(),
  at: z.string(),
});

const answerSchema = z.object({ approval: siteApprovalSchema.nullable() });

/** The approval stored on the site for `job`, or undefined when nobody approved anything there. */
export async function readSiteApproval(
  client: WordPressClient,
  job: string,
): Promise<SiteApproval | undefined> {
  const response = await client.request<unknown>('GET', '/entra-wp-sync/v1/approvals', { query: { job } });
  const answer = answerSchema.safeParse(response.data);
  if (!answer.success) {
    const problem = answer.error.issues[0];
    throw new WordPressError(
      `The approval stored on ${client.siteUrl} for job ${job} cannot be read (${problem?.path.join('.') || 'answer'}: ${problem?.message ?? 'unexpected shape'}), so it approves nothing.`,
      {
        hint: 'Update the companion plugin to the version of this tool, then approve the held list again under Users → Entra ID sync.',
      },
    );
  }
  return answer.data.approval ?? undefined;
}

/**
 * Removes the site's approval for `job` if it is still the one given for `heldRunId` (a
 * newer one, given meanwhile for a newer list, is kept). Whether one was removed.
 */
export async function clearSiteApproval(
  client: WordPressClient,
  job: string,
  heldRunId: string,
): Promise<boolean> {
  const response = await client.request<{ deleted?: unknown }>('DELETE', '/entra-wp-sync/v1/approvals', {
    query: { job, heldRunId },
  });
  return response.data.deleted === true;
}
