// Reads a job's listings page by page for the full cycle and the delta round alike. The
// next pages are read while this one is written (pagesReadAhead), so Graph's latency and
// its throttling waits overlap WordPress's writes; the checkpoint still moves only after
// a page's writes are done, so a stopped or crashed run resumes at the first page it did
// not finish, and a page read ahead but not written is read again.
import {
  type CollectionPage,
  ExpiredDeltaLinkError,
  ExpiredPageTokenError,
  readCollectionPages,
} from '../graph/paging.ts';
import type { EntraUser } from '../model/entra-user.ts';
import type { CycleRun } from './cycle-types.ts';
import { readAhead } from './read-ahead.ts';

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
 * Pages read beyond the one being written. Two absorb a throttled read (Retry-After of a
 * second or more) behind the writes of the pages before it; 999 users a page keeps that
 * within a few MB.
 */
export const pagesReadAhead = 2;

interface ListedPage {
  page: CollectionPage<EntraUser>;
  listingIndex: number;
}

/**
 * Visits every page left in the run's cycle. Returns why the run stopped early, or
 * undefined when the listing ended (checkpoint.listingDone) or there was nothing to read.
 */
export async function readRemainingPages(
  run: CycleRun,
  source: PageSource,
  visit: (page: CollectionPage<EntraUser>, listingIndex: number) => Promise<void>,
): Promise<string | undefined> {
  const { checkpoint } = run;
  if (checkpoint.listingDone) return undefined;
  const full = source.kind === 'full';
  const listingIndex = full ? (checkpoint.listingIndex ?? 0) : 0;
  const reading = new AbortController();
  const pages = listedPages(run, source, {
    listingIndex,
    link: checkpoint.nextLink ?? source.listings[listingIndex],
    pageNumber: checkpoint.pagesDone + 1,
    signal: reading.signal,
  });
  const stopReading = () => reading.abort(new Error('the run stopped reading pages'));
  for await (const { page, listingIndex } of readAhead(pages, pagesReadAhead, stopReading)) {
    await visit(page, listingIndex);
    checkpoint.pagesDone = page.pageNumber;
    checkpoint.nextLink = page.nextLink;
    if (page.nextLink === undefined && listingIndex + 1 >= source.listings.length) {
      checkpoint.listingDone = true;
      checkpoint.nextDeltaLink = page.deltaLink;
    }
    if (full) checkpoint.listingIndex = page.nextLink === undefined ? listingIndex + 1 : listingIndex;
    await run.pageDone(page.pageNumber);
    if (checkpoint.listingDone) return undefined;
    const stopReason = run.stopReason(page.pageNumber);
    if (stopReason) return stopReason;
  }
  return undefined;
}

/** Every page of the listings from `start` on, restarting a listing whose page token expired. */
async function* listedPages(
  run: CycleRun,
  source: PageSource,
  start: { listingIndex: number; link: string | undefined; pageNumber: number; signal: AbortSignal },
): AsyncGenerator<ListedPage> {
  const { context, job } = run;
  let { listingIndex, link, pageNumber } = start;
  let restarts = 0;
  while (link !== undefined) {
    try {
      for await (const page of readCollectionPages<EntraUser>(context.graph, link, {
        eventualConsistency: source.eventualConsistency,
        startPageNumber: pageNumber,
        signal: start.signal,
      })) {
        pageNumber = page.pageNumber + 1;
        yield { page, listingIndex };
      }
      listingIndex++;
      link = source.listings[listingIndex];
    } catch (error) {
      // The initial delta round pages with skiptokens that expire like any listing's.
      const expired = error instanceof ExpiredPageTokenError || error instanceof ExpiredDeltaLinkError;
      if (source.kind !== 'full' || !expired || restarts >= maxListingRestarts) throw error;
      restarts++;
      context.logger.warn(`${job.name}: ${error.message}`, { job: job.name, event: 'listing-restart' });
      link = source.listings[listingIndex];
    }
  }
}
