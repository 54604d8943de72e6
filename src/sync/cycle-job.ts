// Turns a resolved jobs.yaml job into what one cycle needs: the Graph request, the
// planner's settings and the user mapping.
import { attributesOfMap } from '../config/mapping.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import { needsEventualConsistency, usersRequestPath } from '../graph/users-query.ts';
import type { CycleJob } from './cycle.ts';
import { mapEntraUser, type UserMappingSettings } from './map-user.ts';

/** Attributes every job reads, whatever its map says: identity, scope and guest status. */
const alwaysSelected = ['id', 'userPrincipalName', 'accountEnabled', 'userType', 'mail'];

export function selectedAttributes(job: ResolvedJob): string[] {
  return [...new Set([...alwaysSelected, ...attributesOfMap(job.map)])];
}

/** What is known only once the run has signed in to WordPress. */
export interface RunFacts {
  selfId: number;
  reassignTo: number | undefined;
  allowDeletes: boolean;
}

/** Fails before anything is read or written when a job needs what this version lacks. */
export function assertSupportedSource(
  job: ResolvedJob,
): asserts job is ResolvedJob & { source: { kind: 'users' } } {
  if (job.source.kind !== 'users') {
    throw new ActionableError(`Job "${job.name}": group sources are not supported by this version yet.`, {
      exitCode: ExitCode.usage,
      hint: 'Use source.users with a $filter for now.',
    });
  }
}

export function toCycleJob(job: ResolvedJob, facts: RunFacts): CycleJob {
  assertSupportedSource(job);
  const query = {
    filter: job.source.filter,
    search: job.source.search,
    select: selectedAttributes(job),
    pageSize: job.limits.pageSize,
    count: job.source.count,
  };
  const mapping: UserMappingSettings = {
    map: job.map,
    guests: job.guests,
    defaultRole: job.roles.default,
    guestRole: job.roles.guestRole,
  };
  return {
    name: job.name,
    firstPage: usersRequestPath(query),
    eventualConsistency: needsEventualConsistency(query),
    plan: {
      jobName: job.name,
      match: job.match,
      create: job.actions.create,
      update: job.actions.update,
      rolesMode: job.roles.mode,
      manageAdministrators: job.roles.manageAdministrators,
    },
    concurrency: job.limits.concurrency,
    maxRuntimeSeconds: job.limits.maxRuntime,
    mapUser: (user) => mapEntraUser(user, mapping),
    removal: {
      jobName: job.name,
      mode: job.actions.delete,
      scope: job.deleteScope,
      protect: job.protect,
      manageAdministrators: job.roles.manageAdministrators,
      maxDeletes: job.safety.maxDeletes,
      ...facts,
    },
  };
}
