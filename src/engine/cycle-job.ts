// Turns a resolved jobs.yaml job into what one cycle needs: the Graph request, the
// planner's settings and the user mapping.
import { attributesOfMap, mapReadsManager } from '../config/mapping.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import { transitiveUsersPath } from '../graph/groups.ts';
import { needsEventualConsistency, usersDeltaPath, usersRequestPath } from '../graph/users-query.ts';
import { mapEntraUser, type RoleRule, type UserMappingSettings } from '../rules/map-user.ts';
import type { CycleJob } from './cycle-types.ts';

/** Attributes every job reads, whatever its map says: identity, scope and guest status. */
const alwaysSelected = ['id', 'userPrincipalName', 'accountEnabled', 'userType', 'mail'];

export function selectedAttributes(job: ResolvedJob): string[] {
  return [...new Set([...alwaysSelected, ...attributesOfMap(job.map)])];
}

/** What is known only once the run has signed in to WordPress and read Entra's groups. */
export interface RunFacts {
  selfId: number;
  reassignTo: number | undefined;
  /** Roles of the site able to manage options or promote users (from the companion plugin). */
  privilegedRoles: ReadonlySet<string>;
  /** The site stores the sync's marker meta (it has the companion plugin). */
  siteKeepsMarkers: boolean;
  /** The companion plugin takes object-ID keys for SSO plugins (adoption.writeObjectIdKeys). */
  siteTakesObjectIdKeys?: boolean;
  /** Object IDs of the source groups (source.groups), resolved from names. */
  sourceGroupIds?: readonly string[];
  roleRules?: readonly RoleRule[];
}

export function toCycleJob(job: ResolvedJob, facts: RunFacts): CycleJob {
  const users = job.source.kind === 'users' ? job.source : undefined;
  const query = {
    filter: users?.filter,
    search: users?.search,
    select: selectedAttributes(job),
    pageSize: job.limits.pageSize,
    expandManager: mapReadsManager(job.map),
    // Graph cannot count and expand in one query; the count only feeds progress lines.
    count: users && !mapReadsManager(job.map) ? job.source.count : false,
  };
  // The schema checks source.users; a filter or search from source.query is checked here.
  if (query.expandManager && needsEventualConsistency({ ...query, count: false })) {
    throw new ActionableError(
      `Job "${job.name}": the map reads the manager, but the job's query is an advanced one ($search, or a ne/not/endsWith filter), in which Graph does not support $expand=manager.`,
      {
        exitCode: ExitCode.usage,
        hint: 'Use a plain filter (eq, startsWith, in) in the source, or remove the manager mappings from the map.',
      },
    );
  }
  const mapping: UserMappingSettings = {
    map: job.map,
    guests: job.guests,
    defaultRole: job.roles.default,
    guestRole: job.roles.guestRole,
    roleRules: facts.roleRules ?? [],
  };
  // The schema allows delta only for source.users without a filter: user delta cannot filter.
  const delta = users !== undefined && job.source.delta;
  const roleMembers = Object.fromEntries(
    (facts.roleRules ?? []).flatMap((rule) => (rule.groupId ? [[rule.groupId, rule.members]] : [])),
  );
  return {
    name: job.name,
    listings: delta
      ? [usersDeltaPath(query.select)]
      : users
        ? [usersRequestPath(query)]
        : (facts.sourceGroupIds ?? []).map((id) =>
            transitiveUsersPath(id, query.select, job.limits.pageSize),
          ),
    eventualConsistency: !delta && needsEventualConsistency(query),
    delta,
    usersByIdPath: delta ? (ids) => usersDeltaPath(query.select, ids) : undefined,
    roleMembers: delta ? roleMembers : undefined,
    plan: {
      jobName: job.name,
      match: job.match,
      create: job.actions.create,
      update: job.actions.update,
      rolesMode: job.roles.mode,
      manageAdministrators: job.roles.manageAdministrators,
      adoption: {
        objectIdKeys: job.adoption.objectIdKeys,
        linkWithoutPlugin: job.adoption.withoutCompanionPlugin === 'link',
      },
      writeMarkers: facts.siteKeepsMarkers,
      writeObjectIdKeys: facts.siteTakesObjectIdKeys ? job.adoption.writeObjectIdKeys : [],
      usernames: job.usernames,
      privilegedRoles: job.roles.allowPrivileged ? new Set() : facts.privilegedRoles,
    },
    concurrency: job.limits.concurrency,
    maxRuntimeSeconds: job.limits.maxRuntime,
    mapUser: (user) => mapEntraUser(user, mapping),
    avatarSize: job.avatar.enabled ? job.avatar.size : undefined,
    removal: {
      jobName: job.name,
      mode: job.actions.delete,
      scope: job.deleteScope,
      protect: job.protect,
      manageAdministrators: job.roles.manageAdministrators,
      maxDeletes: job.safety.maxDeletes,
      selfId: facts.selfId,
      reassignTo: facts.reassignTo,
    },
  };
}
