/** A user (or, in group listings, another directory object) as Graph returns it: `id` plus the selected attributes. */
export type EntraUser = Record<string, unknown> & { id: string };

/** Group listings return nested groups and devices too; only users are synced. */
export function isUserItem(item: EntraUser): boolean {
  const type = item['@odata.type'];
  return type === undefined || type === '#microsoft.graph.user';
}
