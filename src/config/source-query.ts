// A Graph users query written the way other WordPress sync plugins take it (WPO365 SYNC,
// miniOrange User Sync: "myorganization/users?$filter=accountEnabled eq true&$top=10"),
// mapped onto the structured source the job already has. Administrators switching keep the
// query they tested; whatever cannot be mapped is refused by name, never dropped silently,
// because a dropped $filter would sync the whole tenant. Pure: no I/O.

/** What the query sets; keys it does not name keep the job's own values. */
export interface SourceQueryMapping {
  filter?: string;
  search?: string;
  count?: boolean;
  /** Users per Graph page ($top), at most Graph's 999. */
  pageSize?: number;
  /** What was accepted but not used, to show in `check`. */
  notes: string[];
}

export type SourceQueryResult = { ok: true; mapping: SourceQueryMapping } | { ok: false; message: string };

/** Graph's most users per page. */
export const graphMaxPageSize = 999;

// The Graph hosts of the national clouds too: a query copied from Graph Explorer carries one.
const graphHost =
  /^https:\/\/(?:graph\.microsoft\.com|graph\.microsoft\.us|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn)(?=\/|$)/i;

export function parseSourceQuery(text: string): SourceQueryResult {
  const refuse = (message: string): SourceQueryResult => ({ ok: false, message });
  const trimmed = text.trim();
  const questionMark = trimmed.indexOf('?');
  let path = questionMark === -1 ? trimmed : trimmed.slice(0, questionMark);
  const queryString = questionMark === -1 ? '' : trimmed.slice(questionMark + 1);

  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    const host = graphHost.exec(path);
    if (!host) {
      return refuse(
        `${path.split('/').slice(0, 3).join('/')} is not Microsoft Graph; write the path only, e.g. "/users?$filter=accountEnabled eq true"`,
      );
    }
    path = path.slice(host[0].length);
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments[0]?.toLowerCase() === 'beta') {
    return refuse(
      'the beta endpoint is not supported: the job reads Graph v1.0; remove "beta/" from the path (most filters work the same on v1.0)',
    );
  }
  if (segments[0]?.toLowerCase() === 'v1.0') segments.shift();
  // The tenant segment WPO365 writes; Graph reads it as "the signed-in organization".
  if (segments[0] !== undefined && /^(?:myorganization|myorg)$/i.test(segments[0])) segments.shift();
  const resource = segments.map((segment) => segment.toLowerCase());
  if (
    resource[0] === 'groups' &&
    resource.length === 3 &&
    /^(?:transitive)?members$/.test(resource[2] ?? '')
  ) {
    return refuse(
      `group member paths are not supported (${segments.join('/')}); use source.groups: [${segments[1]}] instead (it syncs the group's members, nested groups included)`,
    );
  }
  if (resource.length !== 1 || resource[0] !== 'users') {
    const shown = segments.length === 0 ? 'an empty path' : `/${segments.join('/')}`;
    return refuse(
      `only the users collection can be synced, not ${shown}; write "users?…" (e.g. "users?$filter=accountEnabled eq true")`,
    );
  }

  const mapping: SourceQueryMapping = { notes: [] };
  const seen = new Set<string>();
  for (const part of queryString.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const rawKey = equals === -1 ? part : part.slice(0, equals);
    let key: string;
    let value: string;
    try {
      key = decodeQueryPart(rawKey).trim();
      value = equals === -1 ? '' : decodeQueryPart(part.slice(equals + 1)).trim();
    } catch {
      return refuse(
        `"${part}" is not valid URL encoding; write the characters themselves or encode "%" as %25`,
      );
    }
    const option = key.toLowerCase();
    if (seen.has(option)) return refuse(`${key} is given twice; keep one`);
    seen.add(option);
    switch (option) {
      case '$filter':
        if (value === '') return refuse('$filter is empty; remove it or give an expression');
        mapping.filter = value;
        break;
      case '$search':
        if (value === '') return refuse('$search is empty; remove it or give an expression');
        mapping.search = value;
        break;
      case '$count':
        if (value !== 'true' && value !== 'false')
          return refuse(`$count must be true or false, not "${value}"`);
        mapping.count = value === 'true';
        break;
      case '$top': {
        if (!/^\d+$/.test(value) || Number(value) < 1) {
          return refuse(`$top must be a whole number of users per page, 1–999, not "${value}"`);
        }
        const top = Number(value);
        mapping.pageSize = Math.min(top, graphMaxPageSize);
        if (top > graphMaxPageSize) {
          mapping.notes.push(
            `$top=${value} is above Graph's ${graphMaxPageSize} users per page; ${graphMaxPageSize} is used`,
          );
        }
        break;
      }
      case '$select':
        mapping.notes.push('$select is ignored: the job selects the attributes its mapping needs');
        break;
      default:
        return refuse(unsupportedOption(key));
    }
  }
  return { ok: true, mapping };
}

/** The structured settings a query stands for, as `check` shows them. */
export function describeSourceQuery(mapping: SourceQueryMapping): string {
  const parts = [
    ...(mapping.filter === undefined ? [] : [`source.users.filter: ${mapping.filter}`]),
    ...(mapping.search === undefined ? [] : [`source.users.search: ${mapping.search}`]),
    ...(mapping.count === undefined ? [] : [`source.count: ${mapping.count}`]),
    ...(mapping.pageSize === undefined ? [] : [`limits.pageSize: ${mapping.pageSize}`]),
  ];
  const settings = parts.length === 0 ? 'source.users: {} (all users)' : parts.join(', ');
  return [settings, ...mapping.notes].join('; ');
}

function decodeQueryPart(text: string): string {
  // Form encoding: "+" is a space, as Graph reads it.
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

function unsupportedOption(key: string): string {
  switch (key.toLowerCase()) {
    case '$expand':
      return '$expand is not supported: the job reads user attributes only; remove it (group memberships for roles come from roles.rules)';
    case '$orderby':
      return '$orderby is not supported: the order does not change who is synced, and with $filter it needs an advanced query; remove it';
    case '$skip':
    case '$skiptoken':
      return `${key} is not supported: the job pages through every result itself; remove it`;
    default:
      return key.startsWith('$')
        ? `${key} is not supported; the query may use $filter, $search, $count, $top and $select`
        : `"${key}" is not a Graph query option; the query may use $filter, $search, $count, $top and $select`;
  }
}
