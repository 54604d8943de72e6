// On-demand provisioning (`sync-user`): one Entra user through the same map → match →
// plan → apply path as a cycle, without touching the cycle's checkpoint or removals.

import { mapReadsManager } from '../config/mapping.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import { selectedAttributes } from '../engine/cycle-job.ts';
import type { CycleJob } from '../engine/cycle-types.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import type { GraphApi } from '../graph/graph-api.ts';
import { GraphRequestError } from '../graph/graph-failures.ts';
import { loadGroupUserIds } from '../graph/groups.ts';
import { odataString, usersRequestPath } from '../graph/users-query.ts';
import type { StateStore } from '../state/state-store.ts';

/** The object ID of a user given by object ID or UPN. */
export async function resolveUserId(api: GraphApi, idOrUpn: string): Promise<string> {
  try {
    const user = await api.get<{ id: string }>(`/users/${encodeURIComponent(idOrUpn)}?$select=id`);
    return user.id;
  } catch (error) {
    if (error instanceof GraphRequestError && error.status === 404) {
      throw new ActionableError(`No Entra user "${idOrUpn}".`, {
        exitCode: ExitCode.usage,
        hint: 'Give the object ID or the user principal name (UPN) as Entra shows it.',
      });
    }
    throw error;
  }
}

/** The job narrowed to one user: still only if the job's own scope includes them. */
export async function singleUserJob(
  cycleJob: CycleJob,
  job: ResolvedJob,
  api: GraphApi,
  objectId: string,
  sourceGroupIds: readonly string[] | undefined,
): Promise<CycleJob> {
  const idFilter = `id eq ${odataString(objectId)}`;
  let inGroups = true;
  if (sourceGroupIds) {
    inGroups = false;
    for (const groupId of sourceGroupIds) {
      if ((await loadGroupUserIds(api, groupId)).has(objectId.toLowerCase())) inGroups = true;
    }
  }
  const users = job.source.kind === 'users' ? job.source : undefined;
  const filter = users?.filter ? `${idFilter} and (${users.filter})` : idFilter;
  const listing = usersRequestPath({
    filter,
    search: users?.search,
    select: selectedAttributes(job),
    pageSize: 1,
    count: Boolean(users?.search),
    expandManager: mapReadsManager(job.map),
  });
  return {
    ...cycleJob,
    // Not in the job's scope: nothing to read, so nothing is planned for them.
    listings: inGroups ? [listing] : [],
    delta: false,
    removal: { ...cycleJob.removal, mode: 'none' },
    maxRuntimeSeconds: undefined,
  };
}

/** Keeps the job's lock (no cycle runs meanwhile) but never reads or moves its checkpoint. */
export function withoutCheckpoint(store: StateStore): StateStore {
  return {
    description: store.description,
    load: async () => undefined,
    save: async () => undefined,
    clear: async () => undefined,
    lock: (job, owner) => store.lock(job, owner),
    unlock: (job) => store.unlock(job),
  };
}
