// A full cycle: every page of every listing matched against WordPress, then the removal
// rules for everyone the cycle did not see. With the companion plugin each
// page looks up only the WordPress users it names and removals scan the site page by
// page, so memory stays flat on 100,000 users; without it the whole index is loaded.
import { ExpiredDeltaLinkError, ExpiredPageTokenError, readCollectionPages } from '../graph/paging.ts';
import type { JobRunSummary } from '../report/run-summary.ts';
import { countManaged, inRemovalScope, planRemovals, removalSummary } from '../rules/removals.ts';
import { objectIdOf, WordPressUserIndex } from '../rules/user-index.ts';
import { applyRemovals } from './apply-removals.ts';
import type { CycleRun, EntraUser, ListingOutcome } from './cycle.ts';
import { isUserItem, mapPage, matchKeys, syncPage } from './page-sync.ts';

/**
 * Up to this many WordPress users the whole index is loaded (about 40 MB); above it each
 * page looks up its own users, which is slower per user but keeps a 100,000-user run
 * within a small container.
 */
export const defaultFullIndexLimit = 20_000;

/** At most this many restarts of a listing whose page token expired, per run. */
const maxListingRestarts = 2;

export async function readFullListing(run: CycleRun): Promise<ListingOutcome> {
  const { job, context, checkpoint } = run;
  // Small sites: one index read is quickest. Big ones: per-page lookups keep memory flat.
  const limit = job.fullIndexLimit ?? defaultFullIndexLimit;
  const find = context.users.find && (await context.users.count()) > limit ? context.users.find : undefined;
  let fullIndex: WordPressUserIndex | undefined;
  if (!find) {
    context.logger.info(`${job.name}: loading WordPress users`, { job: job.name, event: 'index' });
    fullIndex = new WordPressUserIndex(await context.users.all());
    context.logger.info(`${job.name}: ${fullIndex.size} WordPress users; reading Entra`, {
      job: job.name,
      event: 'start',
    });
  }
  const seen = new Set(checkpoint.seen);
  // The checkpoint's list grows with the set; copying 100,000 ids per page would not scale.
  const markSeen = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    checkpoint.seen.push(id);
  };
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
        const mapped = mapPage(fresh, job);
        let index = fullIndex;
        if (!index) {
          index = new WordPressUserIndex();
          if (find && mapped.desired.length > 0) {
            for (const user of (await find(matchKeys(mapped.desired, job.plan.match))).users) index.put(user);
          }
        }
        const outcome = await syncPage(
          mapped,
          job,
          context,
          index,
          run.claims,
          run.managingSince,
          run.approvals.adoptions,
        );
        run.record(outcome.applied);
        if (outcome.avatarsUploaded > 0)
          run.counts.avatars = (run.counts.avatars ?? 0) + outcome.avatarsUploaded;
        for (const user of outcome.desired) markSeen(user.objectId);
        for (const user of outcome.unmapped) if (user.outcome === 'error') markSeen(user.objectId);
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
    const index = fullIndex ?? new WordPressUserIndex();
    let managed = 0;
    if (!fullIndex) {
      await context.users.scan((users) => {
        managed += countManaged(users, job.removal.jobName);
        for (const user of users) {
          const objectId = objectIdOf(user)?.toLowerCase();
          if (inRemovalScope(user, job.removal) && !(objectId && seenIds.has(objectId))) index.put(user);
        }
      });
    }
    const plan = planRemovals(index.users(), seenIds, job.removal, fullIndex ? undefined : managed, {
      approved: run.approvals.removals,
      seenCount: seenIds.size,
    });
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
