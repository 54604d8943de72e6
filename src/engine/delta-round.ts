// A delta round: only the Entra users changed since the saved delta link,
// the users whose role groups changed, and the ones that failed last time, matched
// against just the WordPress users they name. Users removed from Entra or gone out of
// scope go through the same removal rules and brake as a full cycle.

import { readCollectionPages } from '../graph/paging.ts';
import { deltaIdFilterLimit } from '../graph/users-query.ts';
import { type EntraUser, isUserItem } from '../model/entra-user.ts';
import type { RemovalOutcome } from '../rules/removals.ts';
import { countManaged } from '../rules/removals.ts';
import { WordPressUserIndex } from '../rules/user-index.ts';
import type { UserLookupKeys } from '../wordpress/user-lookup.ts';
import type { CycleRun, ListingOutcome } from './cycle-types.ts';
import { readRemainingPages } from './page-driver.ts';
import { mapPage, matchKeys, syncPage } from './page-sync.ts';
import { removalsDue, removeUnseen } from './removal-step.ts';

export async function readDeltaRound(run: CycleRun): Promise<ListingOutcome> {
  const { job, context, checkpoint } = run;
  const find = context.users.find;
  // Without the plugin's lookup the round still reads only Entra's changes.
  const index = new WordPressUserIndex(find ? [] : await context.users.all());
  let managed: number | undefined;
  const lookUp = async (keys: UserLookupKeys) => {
    if (!find) return;
    const found = await find(keys);
    for (const user of found.users) if (!index.get(user.id)) index.put(user);
    managed = found.managed;
  };
  const starting = checkpoint.pagesDone === 0 && !checkpoint.listingDone;
  const gone = new Set(checkpoint.gone ?? []);
  const seen = new Set(checkpoint.seen);
  // Users to read again next round: their mapping or their write failed.
  const recheckNext = new Set(starting ? [] : (checkpoint.recheck ?? []));

  const syncItems = async (items: readonly EntraUser[]) => {
    const removed = items.filter((item) => '@removed' in item).map((item) => item.id.toLowerCase());
    const present = items.filter((item) => !('@removed' in item) && isUserItem(item) && !seen.has(item.id));
    const mapped = mapPage(present, job);
    for (const id of removed) gone.add(id);
    for (const user of mapped.unmapped) {
      if (user.outcome === 'skipped') gone.add(user.objectId.toLowerCase());
      else recheckNext.add(user.objectId);
    }
    for (const user of mapped.desired) gone.delete(user.objectId.toLowerCase());
    if (mapped.desired.length > 0)
      await lookUp(matchKeys(mapped.desired, job.plan.match, job.plan.loginRule));
    for (const change of await syncPage(run, mapped, index))
      if (change.action === 'failed') recheckNext.add(change.subject.objectId);
    for (const user of present) seen.add(user.id);
    checkpoint.counters.read = (checkpoint.counters.read ?? 0) + present.length + removed.length;
  };
  const keepProgress = () => {
    checkpoint.gone = [...gone];
    checkpoint.recheck = [...recheckNext];
    checkpoint.seen = [...seen];
  };

  if (starting) {
    const ids = [...new Set([...(checkpoint.recheck ?? []), ...membershipChanges(run)])];
    if (ids.length > 0 && job.usersByIdPath) {
      context.logger.info(
        `${job.name}: reading ${ids.length} users again (earlier failures, role group changes)`,
      );
      for (let start = 0; start < ids.length; start += deltaIdFilterLimit) {
        const path = job.usersByIdPath(ids.slice(start, start + deltaIdFilterLimit));
        for await (const page of readCollectionPages<EntraUser>(context.graph, path, {
          eventualConsistency: false,
        })) {
          await syncItems(page.items);
        }
      }
      keepProgress();
      await run.pageDone(0);
    }
  }

  const link = checkpoint.nextLink ?? checkpoint.deltaLink;
  const source = { listings: link ? [link] : [], eventualConsistency: false, kind: 'delta' as const };
  const stopReason = await readRemainingPages(run, source, async (page) => {
    await syncItems(page.items);
    keepProgress();
  });

  let removals: RemovalOutcome | undefined;
  if (removalsDue(run)) {
    const ids = [...gone];
    await lookUp({ objectIds: ids });
    removals = await removeUnseen(run, {
      users: ids.flatMap((id) => index.byObjectId(id)),
      seen: new Set(),
      managed: managed ?? countManaged(index.users(), job.removal.jobName),
      index,
    });
  }
  return { stopReason, removals };
}

/**
 * Group membership is not a user property, so user delta never reports it: the role
 * groups are read every run and compared with the members saved last round.
 */
function membershipChanges(run: CycleRun): string[] {
  const now = run.job.roleMembers ?? {};
  const before = run.checkpoint.roleMembers ?? {};
  const changed = new Set<string>();
  for (const group of new Set([...Object.keys(now), ...Object.keys(before)])) {
    const current = now[group] ?? new Set<string>();
    const previous = new Set(before[group] ?? []);
    for (const id of current) if (!previous.has(id)) changed.add(id);
    for (const id of previous) if (!current.has(id)) changed.add(id);
  }
  return [...changed];
}
