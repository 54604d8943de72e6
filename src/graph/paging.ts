// Follows @odata.nextLink as an opaque URL until Graph stops sending one.
import { ActionableError } from '../errors.ts';
import type { GraphApi } from './graph-api.ts';
import { GraphRequestError } from './graph-failures.ts';

export interface CollectionPage<T> {
  items: T[];
  /** Link to the page after this one; absent on the last page. */
  nextLink: string | undefined;
  /** Delta queries end with a link for the next run instead of a nextLink. */
  deltaLink: string | undefined;
  /** @odata.count, on the first page only, when asked for with ConsistencyLevel. */
  count: number | undefined;
  /** 1-based number of this page within this listing. */
  pageNumber: number;
}

export interface PagingOptions {
  /** Advanced queries need this header on every page, nextLinks included. */
  eventualConsistency: boolean;
  /** Page number of `start` when resuming from a saved link. */
  startPageNumber?: number;
  /** Aborting stops waiting to retry a page (a throttled read ahead of a stopping run). */
  signal?: AbortSignal | undefined;
}

/** Graph said the saved page token is too old; the listing must start over. */
export class ExpiredPageTokenError extends ActionableError {
  constructor(cause: unknown) {
    super('Graph says the saved page token has expired; the listing starts over from the first page.', {
      cause,
    });
    this.name = 'ExpiredPageTokenError';
  }
}

/** A delta link that Graph no longer knows: a full cycle is needed. */
export class ExpiredDeltaLinkError extends ActionableError {
  constructor(cause: unknown) {
    super('Graph no longer knows the saved delta link (it lives 7 days); a full cycle runs instead.', {
      cause,
    });
    this.name = 'ExpiredDeltaLinkError';
  }
}

export async function* readCollectionPages<T>(
  api: GraphApi,
  start: string,
  options: PagingOptions,
): AsyncGenerator<CollectionPage<T>> {
  const headers: Record<string, string> = options.eventualConsistency ? { ConsistencyLevel: 'eventual' } : {};
  const seenLinks = new Set<string>();
  let link: string | undefined = start;
  let pageNumber = options.startPageNumber ?? 1;
  while (link !== undefined) {
    seenLinks.add(link);
    let page: Awaited<ReturnType<typeof api.getCollectionPage<T>>>;
    try {
      page = await api.getCollectionPage<T>(link, headers, options.signal);
    } catch (error) {
      throw classifyPagingFailure(error);
    }
    if (page.nextLink !== undefined && seenLinks.has(page.nextLink)) {
      throw new ActionableError(
        `Graph returned the same next-page link twice on page ${pageNumber}; stopping instead of looping.`,
        {
          hint: 'Run again later; if it repeats, the query may be unsupported for paging (try a simpler filter).',
        },
      );
    }
    yield {
      items: page.value,
      nextLink: page.nextLink,
      deltaLink: page.deltaLink,
      count: page.count,
      pageNumber,
    };
    pageNumber++;
    link = page.nextLink;
  }
}

function classifyPagingFailure(error: unknown): unknown {
  if (error instanceof GraphRequestError) {
    if (error.code === 'Directory_ExpiredPageToken') return new ExpiredPageTokenError(error);
    if (error.code === 'syncStateNotFound' || error.code === 'resyncRequired' || error.status === 410) {
      return new ExpiredDeltaLinkError(error);
    }
  }
  return error;
}
