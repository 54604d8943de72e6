// Builds the /users request a job needs: only the attributes it maps, the page size it
// asks for, and ConsistencyLevel only when the query is an advanced one.
export interface UsersQuery {
  filter?: string | undefined;
  search?: string | undefined;
  /** Attributes to $select; `id` is always added. */
  select: readonly string[];
  /** 1..999 (Graph's maximum for /users). */
  pageSize: number;
  /** Ask for @odata.count (needs ConsistencyLevel; not supported by B2C tenants). */
  count: boolean;
  /** Read each user's manager (its object ID) with the page: $expand=manager($select=id). */
  expandManager?: boolean | undefined;
}

/**
 * Graph returns at most 100 users a page when a listing expands a relationship, whatever
 * $top says; asking for 100 keeps the page size the job sees the one Graph sends.
 */
export const expandPageLimit = 100;

/** The $expand that reads a user's manager: its object ID only. */
export const managerExpand = 'manager($select=id)';

const advancedFilter = /\b(ne|not)\b|\bendsWith\s*\(|\/\$count\b/i;

export function needsEventualConsistency(query: Pick<UsersQuery, 'filter' | 'search' | 'count'>): boolean {
  return (
    query.count || Boolean(query.search) || (query.filter !== undefined && advancedFilter.test(query.filter))
  );
}

export function usersRequestPath(query: UsersQuery, resource = '/users'): string {
  const select = [...new Set(['id', ...query.select])];
  const params = new URLSearchParams();
  params.set('$select', select.join(','));
  if (query.expandManager) params.set('$expand', managerExpand);
  params.set(
    '$top',
    String(query.expandManager ? Math.min(query.pageSize, expandPageLimit) : query.pageSize),
  );
  if (query.filter) params.set('$filter', query.filter);
  if (query.search) params.set('$search', query.search);
  // Graph ignores $count without ConsistencyLevel and rejects advanced queries without $count.
  if (needsEventualConsistency(query)) params.set('$count', 'true');
  return `${resource}?${encodeQuery(params)}`;
}

/**
 * Graph user delta: the initial round (no $top: delta refuses it), or the current state
 * of up to 50 given users (delta filters only by id).
 */
export function usersDeltaPath(select: readonly string[], ids?: readonly string[]): string {
  const params = new URLSearchParams();
  params.set('$select', [...new Set(['id', ...select])].join(','));
  if (ids && ids.length > 0) params.set('$filter', ids.map((id) => `id eq ${odataString(id)}`).join(' or '));
  return `/users/delta?${encodeQuery(params)}`;
}

/** Delta filters take at most this many ids. */
export const deltaIdFilterLimit = 50;

/** A string literal for $filter: quotes doubled; `#` and other reserved characters are URL-encoded later. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function encodeQuery(params: URLSearchParams): string {
  // Keep `$`, `,` and `:` readable in logs; everything else (including `#`, which the
  // graph client would otherwise send raw) is percent-encoded.
  return [...params]
    .map(([key, value]) => `${key}=${encodeURIComponent(value).replace(/%2C/g, ',').replace(/%24/g, '$')}`)
    .join('&');
}
