// Groups named in jobs.yaml (by object ID or display name) and their transitive user
// members: one paged listing per group, never one request per user.
import { ActionableError, ExitCode } from '../errors.ts';
import type { GraphApi } from './graph-api.ts';
import { GraphRequestError } from './graph-failures.ts';
import { readCollectionPages } from './paging.ts';
import { odataString } from './users-query.ts';

export interface ResolvedGroup {
  id: string;
  displayName: string;
}

const objectIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Resolves each reference once; a missing or ambiguous name is a configuration error. */
export async function resolveGroups(api: GraphApi, job: string, references: readonly string[]) {
  const resolved = new Map<string, ResolvedGroup>();
  for (const reference of new Set(references)) {
    if (objectIdPattern.test(reference)) {
      const group = await api
        .get<ResolvedGroup>(`/groups/${reference}?$select=id,displayName`)
        .catch((error: unknown) => {
          // Only Graph's 404 means the ID is wrong. A failed sign-in, a missing permission
          // or an outage (already retried) keeps its own message, hint and exit code: read
          // as "no such group", it would send the administrator to check a correct ID.
          if (!(error instanceof GraphRequestError && error.status === 404)) throw error;
          throw new ActionableError(`Job "${job}": no Entra group with object ID ${reference}.`, {
            exitCode: ExitCode.usage,
            hint: "Copy the group's Object ID from the Entra admin center (Groups → the group → Overview).",
            cause: error,
          });
        });
      resolved.set(reference, { id: group.id, displayName: group.displayName });
      continue;
    }
    const filter = encodeURIComponent(`displayName eq ${odataString(reference)}`);
    const found = await api.get<{ value: ResolvedGroup[] }>(
      `/groups?$filter=${filter}&$select=id,displayName`,
    );
    if (found.value.length !== 1) {
      throw new ActionableError(
        found.value.length === 0
          ? `Job "${job}": no Entra group is named "${reference}".`
          : `Job "${job}": ${found.value.length} Entra groups are named "${reference}" (${found.value.map((group) => group.id).join(', ')}).`,
        { exitCode: ExitCode.usage, hint: "Use the group's object ID instead of its name." },
      );
    }
    resolved.set(reference, found.value[0]!);
  }
  return resolved;
}

/**
 * Transitive members of a group that are users. The listing is not cast to
 * microsoft.graph.user because the cast needs advanced queries, which B2C lacks.
 */
export function transitiveUsersPath(groupId: string, select: readonly string[], pageSize: number): string {
  const attributes = [...new Set(['id', ...select])].join(',');
  return `/groups/${groupId}/transitiveMembers?$select=${attributes}&$top=${pageSize}`;
}

export function isUserObject(item: Record<string, unknown>): boolean {
  return item['@odata.type'] === '#microsoft.graph.user';
}

/** Object IDs of every user in the group, nested groups included. */
export async function loadGroupUserIds(api: GraphApi, groupId: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const page of readCollectionPages<Record<string, unknown>>(
    api,
    transitiveUsersPath(groupId, [], 999),
    {
      eventualConsistency: false,
    },
  )) {
    for (const item of page.items) if (isUserObject(item)) ids.add(String(item.id).toLowerCase());
  }
  return ids;
}
