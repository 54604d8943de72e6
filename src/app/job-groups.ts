// The Entra groups a job names — its source groups and the groups of its role rules —
// resolved once per run, with each rule group's members read in one paged listing.
import type { ResolvedJob } from '../config/resolve.ts';
import type { GraphApi } from '../graph/graph-api.ts';
import { loadGroupUserIds, resolveGroups } from '../graph/groups.ts';
import type { RoleRule } from '../rules/map-user.ts';

export interface JobGroups {
  sourceGroupIds: string[] | undefined;
  roleRules: RoleRule[];
}

export async function loadJobGroups(api: GraphApi, job: ResolvedJob): Promise<JobGroups> {
  const sources = job.source.kind === 'groups' ? job.source.groups : [];
  const references = [...sources, ...job.roles.rules.map((rule) => rule.group)];
  if (references.length === 0) return { sourceGroupIds: undefined, roleRules: [] };
  const resolved = await resolveGroups(api, job.name, references);
  const members = new Map<string, Set<string>>();
  const roleRules: RoleRule[] = [];
  for (const rule of job.roles.rules) {
    const groupId = resolved.get(rule.group)!.id;
    let ids = members.get(groupId);
    if (!ids) {
      ids = await loadGroupUserIds(api, groupId);
      members.set(groupId, ids);
    }
    roleRules.push({ groupId, members: ids, role: rule.role });
  }
  return {
    sourceGroupIds:
      job.source.kind === 'groups' ? sources.map((reference) => resolved.get(reference)!.id) : undefined,
    roleRules,
  };
}
