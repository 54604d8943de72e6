// From a validated jobs.yaml to what the sync runs: connection settings merged per job, mappings
// parsed and merged over the defaults, durations in seconds, the state directory made absolute.
import { resolve as resolvePath } from 'node:path';
import { parseDuration } from './guards.ts';
import { defaultMapping, type Mapping, parseMapping } from './mapping.ts';
import type { JobConfig, JobsFile } from './schema.ts';
import { describeSourceQuery, parseSourceQuery } from './source-query.ts';

export type ResolvedGraph = {
  tenantId: string;
  clientId: string;
  cloud: 'global' | 'usgov' | 'usgovdod' | 'china';
  endpoint?: string;
  authorityHost?: string;
};

export type ResolvedWordPress = {
  url: string;
  username: string;
  /** Name of the environment variable that holds the application password (the password itself is not here). */
  applicationPasswordEnv: string;
};

export type ResolvedState = { backend: 'file' | 'wordpress'; directory: string };

export type ResolvedSource =
  | {
      kind: 'users';
      filter?: string;
      search?: string;
      delta: boolean;
      count: boolean;
      /** source.query as written and the structured settings it stands for (shown by check). */
      query?: { text: string; equivalent: string };
    }
  | { kind: 'groups'; groups: string[]; delta: boolean; count: boolean };

export type ResolvedMap = {
  user_login: Mapping;
  user_email: Mapping;
  first_name: Mapping;
  last_name: Mapping;
  display_name: Mapping;
  nickname: Mapping;
  description?: Mapping;
  url?: Mapping;
  locale?: Mapping;
  meta: Record<string, Mapping>;
};

export type MaxDeletes = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

export type ResolvedJob = {
  name: string;
  graph: ResolvedGraph;
  wordpress: ResolvedWordPress;
  state: ResolvedState;
  source: ResolvedSource;
  match: JobConfig['match'];
  actions: JobConfig['actions'];
  /** Domains are lower case, without a leading "@". */
  deleteScope: 'managed' | { domains: string[] };
  guests: JobConfig['guests'];
  usernames: JobConfig['usernames'];
  protect: string[];
  adoption: JobConfig['adoption'];
  map: ResolvedMap;
  roles: JobConfig['roles'];
  avatar: JobConfig['avatar'];
  wordpressEmails: JobConfig['wordpressEmails'];
  notify: JobConfig['notify'];
  safety: { maxDeletes: MaxDeletes };
  /** maxRuntime is in seconds. */
  limits: { pageSize: number; concurrency: number; maxRuntime?: number };
  /**
   * Where settings checked only at run time (the query, roles) are written, for their
   * messages: "roles.default" → "jobs.yaml:14:16 jobs[0].roles.default". Only keys written
   * in the file are here.
   */
  writtenAt?: Record<string, string>;
};

export type LoadedConfig = {
  /** The configuration file as given (used in messages). */
  file: string;
  /** Absolute directory of the configuration file; relative paths in it are resolved from here. */
  directory: string;
  jobs: ResolvedJob[];
};

/** Resolves a validated file. The schema has already checked that every job has its connection settings. */
export function resolveJobs(file: JobsFile, directory: string): ResolvedJob[] {
  const state: ResolvedState = {
    backend: file.state.backend,
    directory: resolvePath(directory, file.state.directory),
  };
  return file.jobs.map((job) => resolveJob(file, job, state));
}

function resolveJob(file: JobsFile, job: JobConfig, state: ResolvedState): ResolvedJob {
  const graph = { ...file.graph, ...definedOnly(job.graph ?? {}) };
  const wordpress = { ...file.wordpress, ...definedOnly(job.wordpress ?? {}) };
  const { users, groups, delta, count, query } = job.source;
  // The schema refused a query it cannot map, so this one maps.
  const parsed = query === undefined ? undefined : parseSourceQuery(query);
  const fromQuery = parsed?.ok ? parsed.mapping : undefined;
  const maxRuntime = job.limits.maxRuntime === undefined ? undefined : parseDuration(job.limits.maxRuntime);
  return {
    name: job.name,
    graph: {
      tenantId: graph.tenantId!,
      clientId: graph.clientId!,
      cloud: graph.cloud ?? 'global',
      ...(graph.endpoint ? { endpoint: graph.endpoint } : {}),
      ...(graph.authorityHost ? { authorityHost: graph.authorityHost } : {}),
    },
    wordpress: {
      url: wordpress.url!,
      username: wordpress.username!,
      applicationPasswordEnv: wordpress.applicationPasswordEnv ?? 'WORDPRESS_APP_PASSWORD',
    },
    state,
    source: groups
      ? { kind: 'groups', groups, delta, count }
      : fromQuery && query !== undefined
        ? {
            kind: 'users',
            ...(fromQuery.filter === undefined ? {} : { filter: fromQuery.filter }),
            ...(fromQuery.search === undefined ? {} : { search: fromQuery.search }),
            delta,
            count: fromQuery.count ?? count,
            query: { text: query, equivalent: describeSourceQuery(fromQuery) },
          }
        : { kind: 'users', ...users, delta, count },
    match: job.match,
    actions: job.actions,
    deleteScope:
      job.deleteScope === 'managed'
        ? 'managed'
        : { domains: job.deleteScope.domains.map((domain) => domain.replace(/^@/, '').toLowerCase()) },
    guests: job.guests,
    usernames: job.usernames,
    protect: job.protect,
    adoption: job.adoption,
    map: resolveMap(job.map),
    roles: job.roles,
    avatar: job.avatar,
    wordpressEmails: job.wordpressEmails,
    notify: job.notify,
    safety: { maxDeletes: parseMaxDeletes(job.safety.maxDeletes) },
    limits: {
      // $top in source.query is the page size the administrator tested.
      pageSize: fromQuery?.pageSize ?? job.limits.pageSize,
      concurrency: job.limits.concurrency,
      ...(maxRuntime === undefined ? {} : { maxRuntime }),
    },
  };
}

function resolveMap(map: JobConfig['map']): ResolvedMap {
  const { meta, ...fields } = map;
  const resolved: Record<string, Mapping> = {};
  for (const [field, text] of Object.entries({ ...defaultMapping, ...definedOnly(fields) })) {
    resolved[field] = parseMapping(typeof text === 'string' ? text : [...text]);
  }
  const parsedMeta = Object.fromEntries(Object.entries(meta).map(([key, text]) => [key, parseMapping(text)]));
  return { ...(resolved as Omit<ResolvedMap, 'meta'>), meta: parsedMeta };
}

function parseMaxDeletes(value: number | string): MaxDeletes {
  if (typeof value === 'number') return { kind: 'count', value };
  return { kind: 'percent', value: Number(value.replace('%', '')) };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
