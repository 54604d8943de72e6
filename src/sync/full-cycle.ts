// A full cycle: every page of every listing against the whole WordPress user index,
// then the removal rules for everyone the cycle did not see (SPEC §4.1–4.7).
import { ExpiredDeltaLinkError, ExpiredPageTokenError, readCollectionPages } from '../graph/paging.ts';
import type { JobRunSummary } from '../report/run-summary.ts';
import { applyRemovals } from './apply-removals.ts';
import type { CycleRun, EntraUser, ListingOutcome } from './cycle.ts';
import { isUserItem, mapPage, syncPage } from './page-sync.ts';
import { planRemovals, removalSummary } from './removals.ts';
import { WordPressUserIndex } from './user-index.ts';

/** At most this many restarts of a listing whose page token expired, per run. */
const maxListingRestarts = 2;

export async function readFullListing(run: CycleRun): Promise<ListingOutcome> {
  const { job, context, checkpoint } = run;
  context.logger.info(`${job.name}: loading WordPress users`, { job: job.name, event: 'index' });
  const index = new WordPressUserIndex(await context.users.all());
  context.logger.info(`${job.name}: ${index.size} WordPress users; reading Entra`, {
    job: job.name,
    event: 'start',
  });
  const seen = new Set(checkpoint.seen);
  let stopReason: string | undefined;
  let restarts = 0;
  let listingIndex = checkpoint.listingIndex ?? 0;
  let link = checkpoint.nextLink ?? job.listings[listingIndex]!;
  listing: while (!checkpoint.listingDone) {
    try {
      for await (const page of readCollectionPages<EntraUser>(context.graph, link, {
        eventualConsistency: job.eventualConsistency,
        startPageNumber: checkpoint.pagesDone + 1,
      })) {
        if (page.count !== undefined && listingIndex === 0) checkpoint.totalCount = page.count;
        // Group listings hold nested groups too; a user in two source groups, or read
        // again after a restarted listing, is planned once per cycle.
        const fresh = page.items.filter((item) => isUserItem(item) && !seen.has(item.id));
        const outcome = await syncPage(mapPage(fresh, job), job, context, index, run.claims);
        run.record(outcome.applied);
        if (outcome.avatarsUploaded > 0)
          run.counts.avatars = (run.counts.avatars ?? 0) + outcome.avatarsUploaded;
        for (const user of outcome.desired) seen.add(user.objectId);
        for (const user of outcome.unmapped) if (user.outcome === 'error') seen.add(user.objectId);
        checkpoint.counters.read = (checkpoint.counters.read ?? 0) + fresh.length;
        checkpoint.pagesDone = page.pageNumber;
        checkpoint.nextLink = page.nextLink;
        if (page.nextLink === undefined) {
          if (listingIndex + 1 < job.listings.length) listingIndex++;
          else {
            checkpoint.listingDone = true;
            checkpoint.nextDeltaLink = page.deltaLink;
          }
        }
        checkpoint.listingIndex = listingIndex;
        checkpoint.seen = [...seen];
        await run.pageDone(page.pageNumber);
        if (checkpoint.listingDone) break listing;
        stopReason = run.stopReason(page.pageNumber);
        if (stopReason) break listing;
        if (page.nextLink === undefined) break;
      }
      link = job.listings[listingIndex]!;
    } catch (error) {
      // The initial delta round pages with skiptokens that expire like any listing's.
      const expired = error instanceof ExpiredPageTokenError || error instanceof ExpiredDeltaLinkError;
      if (!expired || restarts >= maxListingRestarts) throw error;
      restarts++;
      context.logger.warn(`${job.name}: ${error.message}`, { job: job.name, event: 'listing-restart' });
      link = job.listings[listingIndex]!;
    }
  }
  let removals: JobRunSummary['removals'];
  if (checkpoint.listingDone && job.removal.mode !== 'none') {
    const seenIds = new Set([...seen].map((id) => id.toLowerCase()));
    const plan = planRemovals(index.users(), seenIds, job.removal);
    run.record(
      await applyRemovals(plan.changes, context.writes, index, {
        concurrency: job.writeConcurrency ?? job.concurrency,
        dryRun: context.dryRun,
      }),
    );
    removals = removalSummary(plan);
  }
  return { stopReason, removals };
}
