// Reads a job's listings page by page for the full cycle and the delta round alike: the
// checkpoint moves only after a page's writes are done, so a stopped or crashed run
// resumes at the first page it did not finish.
import {
  type CollectionPage,
  ExpiredDeltaLinkError,
  ExpiredPageTokenError,
  readCollectionPages,
} from '../graph/paging.ts';
import type { EntraUser } from '../model/entra-user.ts';
import type { CycleRun } from './cycle-types.ts';

export interface PageSource {
  /** The first request of each listing, read in turn. */
  listings: readonly string[];
  eventualConsistency: boolean;
  /**
   * A full cycle may read several listings (one per source group), keeps which one it is
   * in, and restarts a listing whose page token expired; a delta round reads one link.
   */
  kind: 'full' | 'delta';
}

/** At most this many restarts of a listing whose page token expired, per run. */
const maxListingRestarts = 2;

/**
 * Visits every page left in the run's cycle. Returns why the run stopped early, or
 * undefined when the listing ended (checkpoint.listingDone) or there was nothing to read.
 */
export async function readRemainingPages(
  run: CycleRun,
  source: PageSource,
  visit: (page: CollectionPage<EntraUser>, listingIndex: number) => Promise<void>,
): Promise<string | undefined> {
  const { checkpoint, context, job } = run;
  const full = source.kind === 'full';
  let listingIndex = full ? (checkpoint.listingIndex ?? 0) : 0;
  let link = checkpoint.nextLink ?? source.listings[listingIndex];
  let restarts = 0;
  while (!checkpoint.listingDone && link !== undefined) {
    try {
      for await (const page of readCollectionPages<EntraUser>(context.graph, link, {
        eventualConsistency: source.eventualConsistency,
        startPageNumber: checkpoint.pagesDone + 1,
      })) {
        await visit(page, listingIndex);
        checkpoint.pagesDone = page.pageNumber;
        checkpoint.nextLink = page.nextLink;
        if (page.nextLink === undefined) {
          if (listingIndex + 1 < source.listings.length) listingIndex++;
          else {
            checkpoint.listingDone = true;
            checkpoint.nextDeltaLink = page.deltaLink;
          }
        }
        if (full) checkpoint.listingIndex = listingIndex;
        await run.pageDone(page.pageNumber);
        if (checkpoint.listingDone) return undefined;
        const stopReason = run.stopReason(page.pageNumber);
        if (stopReason) return stopReason;
        if (page.nextLink === undefined) break;
      }
      link = source.listings[listingIndex];
    } catch (error) {
      // The initial delta round pages with skiptokens that expire like any listing's.
      const expired = error instanceof ExpiredPageTokenError || error instanceof ExpiredDeltaLinkError;
      if (!full || !expired || restarts >= maxListingRestarts) throw error;
      restarts++;
      context.logger.warn(`${job.name}: ${error.message}`, { job: job.name, event: 'listing-restart' });
      link = source.listings[listingIndex];
    }
  }
  return undefined;
}
