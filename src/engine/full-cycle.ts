// A full cycle: every page of every listing matched against WordPress, then the removal
// rules for everyone the cycle did not see. With the companion plugin each
// page looks up only the WordPress users it names and removals scan the site page by
// page, so memory stays flat on 100,000 users; without it the whole index is loaded.
import { isUserItem } from '../model/entra-user.ts';
import type { RemovalOutcome } from '../rules/removals.ts';
import { countManaged, inRemovalScope } from '../rules/removals.ts';
import { objectIdOf, WordPressUserIndex } from '../rules/user-index.ts';
import type { CycleRun, ListingOutcome } from './cycle-types.ts';
import { readRemainingPages } from './page-driver.ts';
import { mapPage, matchKeys, syncPage } from './page-sync.ts';
import { removalsDue, removeUnseen } from './removal-step.ts';

/**
 * Up to this many WordPress users the whole index is loaded (about 40 MB); above it each
 * page looks up its own users, which is slower per user but keeps a 100,000-user run
 * within a small container.
 */
export const defaultFullIndexLimit = 20_000;

export async function readFullListing(run: CycleRun): Promise<ListingOutcome> {
  const { job, context, checkpoint } = run;
  // Small sites: one index read is quickest. Big ones: per-page lookups keep memory flat.
  const limit = job.fullIndexLimit ?? defaultFullIndexLimit;
  const find = context.users.find;
  const perPage = find && (await context.users.count()) > limit;
  let fullIndex: WordPressUserIndex | undefined;
  if (!perPage) {
    context.logger.info(`${job.name}: loading WordPress users`, { job: job.name, event: 'index' });
    fullIndex = new WordPressUserIndex(await context.users.all());
    context.logger.info(`${job.name}: ${fullIndex.size} WordPress users; reading Entra`, {
      job: job.name,
      event: 'start',
    });
  }
  const seen = new Set(checkpoint.seen);
  // The checkpoint's list grows with the set; copying 100,000 ids per page would not scale.
  const markSeen = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    checkpoint.seen.push(id);
  };
  const source = {
    listings: job.listings,
    eventualConsistency: job.eventualConsistency,
    kind: 'full' as const,
  };
  const stopReason = await readRemainingPages(run, source, async (page, listingIndex) => {
    if (page.count !== undefined && listingIndex === 0) checkpoint.totalCount = page.count;
    // Group listings hold nested groups too; a user in two source groups, or read
    // again after a restarted listing, is planned once per cycle.
    const fresh = page.items.filter((item) => isUserItem(item) && !seen.has(item.id));
    const mapped = mapPage(fresh, job);
    let index = fullIndex;
    if (!index) {
      index = new WordPressUserIndex();
      if (find && mapped.desired.length > 0) {
        for (const user of (await find(matchKeys(mapped.desired, job.plan.match, job.plan.loginRule))).users)
          index.put(user);
      }
    }
    await syncPage(run, mapped, index);
    // A small site that this cycle fills (an initial sync of 100,000) would hold every
    // new user in memory: past the limit, later pages look up their own users instead.
    if (fullIndex && find && fullIndex.size > limit) {
      context.logger.info(`${job.name}: over ${limit} WordPress users; each page now looks up its own`, {
        job: job.name,
        event: 'index',
      });
      fullIndex = undefined;
    }
    for (const user of mapped.desired) markSeen(user.objectId);
    for (const user of mapped.unmapped) if (user.outcome === 'error') markSeen(user.objectId);
    checkpoint.counters.read = (checkpoint.counters.read ?? 0) + fresh.length;
  });
  let removals: RemovalOutcome | undefined;
  if (removalsDue(run)) {
    const seenIds = new Set([...seen].map((id) => id.toLowerCase()));
    const index = fullIndex ?? new WordPressUserIndex();
    let managed = 0;
    if (!fullIndex) {
      await context.users.scan((users) => {
        managed += countManaged(users, job.removal.jobName);
        for (const user of users) {
          const objectId = objectIdOf(user)?.toLowerCase();
          if (inRemovalScope(user, job.removal) && !(objectId && seenIds.has(objectId))) index.put(user);
        }
      });
    }
    removals = await removeUnseen(run, {
      users: index.users(),
      seen: seenIds,
      managed: fullIndex ? undefined : managed,
      index,
      seenCount: seenIds.size,
    });
  }
  return { stopReason, removals };
}
