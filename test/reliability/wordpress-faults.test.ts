// WordPress that fails under the sync — a proxy that answers 502 or cuts
// connections, PHP-FPM restarted and MariaDB gone for a moment in the middle of a run.
// Nobody may be created twice or silently lost: a user the run could not write is a
// failed row, and a rerun ends exactly as a clean run does.
//
// PHP-FPM and MariaDB are stopped in a test bed of this file's own (one site, started
// here): the shared one serves the other worker's tests at the same time.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { startWordPressStack, type WordPressStack } from '../support/wordpress/index.ts';
import {
  type AfterVerdict,
  createsUsers,
  type ProxiedRequest,
  startWordPressProxy,
  type WordPressProxy,
  writesUsers,
} from '../support/wordpress-proxy.ts';
import { useWordPressSite, type WordPressSite } from '../support/wordpress-site.ts';
import {
  differences,
  expectNoDuplicates,
  normalise,
  objectIdOf,
  type SnapshotUser,
  siteUsers,
  snapshot,
} from './wordpress-snapshot.ts';

const people: FakeUser[] = generateUsers(120, 521);
const job = { actions: { delete: 'soft' }, limits: { pageSize: 20, concurrency: 4 } };

/** Between two runs: 6 people leave, 4 are renamed, 3 join. */
const change = (() => {
  const leavers = people.filter((_, index) => index % 20 === 4);
  const renamed = people.filter((_, index) => index % 30 === 11);
  const joiners = generateUsers(3, 522);
  let applied = false;
  return {
    leavers,
    apply(harness: SyncHarness) {
      const tenant = harness.graph.tenant;
      for (const person of leavers) tenant.removeUser(person.id);
      for (const person of renamed) tenant.updateUser(person.id, { surname: `${person.surname}-Renamed` });
      for (const person of joiners) tenant.addUser(person);
      applied = true;
    },
    undo(harness: SyncHarness) {
      if (!applied) return;
      const tenant = harness.graph.tenant;
      for (const person of leavers) tenant.restoreUser(person.id);
      for (const person of renamed) tenant.updateUser(person.id, { surname: person.surname });
      for (const person of joiners) tenant.removeUser(person.id, true);
      applied = false;
    },
  };
})();

let harness: SyncHarness;
let proxy: WordPressProxy;
/** Decides per request for the case at hand; the proxy asks it first. */
let before:
  | ((request: ProxiedRequest) => 'forward' | 'reset' | { status: number; body: unknown })
  | undefined;
let after: ((request: ProxiedRequest) => AfterVerdict) | undefined;
/** Clean runs: of `people`, and of the changed directory after that. */
let cleanFirstSync: SnapshotUser[];
let cleanAfterChange: SnapshotUser[];
let ownStack: WordPressStack | undefined;

async function startProxy(target: string, rates: { rate502?: number; rateReset?: number } = {}) {
  await proxy?.close();
  before = undefined;
  after = undefined;
  proxy = await startWordPressProxy(target, {
    seed: 7,
    ...rates,
    before: (request) => before?.(request) ?? 'forward',
    after: (request) => after?.(request) ?? 'relay',
  });
  await harness.writeConfig({ ...job, wordpress: { url: proxy.url } });
}

async function freshStart(site: WordPressSite): Promise<void> {
  await rm(join(harness.directory, 'state'), { recursive: true, force: true });
  harness.env.WORDPRESS_APP_PASSWORD = site.appPassword;
}

/**
 * After a run under faults: no duplicates, and every user the clean run has is either
 * just as that run left them or named in a failed row.
 */
async function expectNothingLostOrDoubled(
  site: WordPressSite,
  result: { code: number | null; rows: Array<Record<string, unknown>>; stderr: string },
  expected: SnapshotUser[],
): Promise<void> {
  const failed = result.rows.filter((row) => row.action === 'failed');
  expect(result.code, result.stderr).toBe(failed.length > 0 ? 3 : 0);
  const users = await siteUsers(site);
  expectNoDuplicates(users);
  const failedIds = new Set(failed.map((row) => String(row.objectId).toLowerCase()));
  const actual = new Map(
    normalise(users).map((user) => [String(user.meta.entra_wp_sync_object_id ?? ''), user]),
  );
  const wrong = expected
    .filter((user) => user.meta.entra_wp_sync_object_id)
    .filter((user) => {
      const id = String(user.meta.entra_wp_sync_object_id);
      return JSON.stringify(actual.get(id)) !== JSON.stringify(user) && !failedIds.has(id.toLowerCase());
    })
    .map((user) => user.login);
  expect(wrong, 'users neither synced nor reported as failed').toEqual([]);
}

async function rerunEndsClean(site: WordPressSite, expected: SnapshotUser[]): Promise<void> {
  before = undefined;
  after = undefined;
  proxy.setRates({ rate502: 0, rateReset: 0 });
  const rerun = await harness.runJobs();
  expect(rerun.code, rerun.stderr).toBe(0);
  const users = await siteUsers(site);
  expectNoDuplicates(users);
  expect(differences(normalise(users), expected)).toEqual([]);
}

/** Waits, without a fixed sleep, until `condition` holds. */
async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  harness = await startSyncHarness(people);
  // Node's compile cache makes each CLI start about twice as quick.
  harness.env.NODE_COMPILE_CACHE = join(tmpdir(), 'entra-wp-sync-compile-cache');
  await startProxy(harness.site.url);
  const first = await harness.runJobs();
  expect(first.code, first.stderr).toBe(0);
  cleanFirstSync = await snapshot(harness.site);
  expect(cleanFirstSync.filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(120);
  change.apply(harness);
  try {
    const second = await harness.runJobs();
    expect(second.code, second.stderr).toBe(0);
    cleanAfterChange = await snapshot(harness.site);
  } finally {
    change.undo(harness);
  }
});

afterAll(async () => {
  change.undo(harness);
  await proxy?.close();
  await harness?.stop();
  await ownStack?.stop();
});

describe('WordPress faults', () => {
  it('a reset and then a 502 on the very first requests (finding the REST API) are retried, not taken for a site without one', async () => {
    const site = await useWordPressSite();
    await freshStart(site);
    await startProxy(site.url);
    before = (request) =>
      request.number === 1
        ? 'reset'
        : request.number === 2
          ? { status: 502, body: '<html><body>502 Bad Gateway</body></html>' }
          : 'forward';
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(0);
    // Still the pretty /wp-json/ routes, not a fallback taken because of the outage.
    expect(proxy.requests.at(-1)?.url).toMatch(/^\/wp-json\//);
    await rerunEndsClean(site, cleanFirstSync);
  });

  it('a create batch that WordPress carries out but whose answer is lost: each of its users is found and linked, none created twice, none failed', async () => {
    const site = await useWordPressSite();
    await freshStart(site);
    await startProxy(site.url);
    let lost: ProxiedRequest | undefined;
    after = (request) => {
      if (lost || !createsUsers(request)) return 'relay';
      lost = request;
      return 'reset';
    };
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(0);
    expect(lost?.upstreamStatus).toBeLessThan(300);
    const linked = result.rows.filter(
      (row) => row.message === 'found after an interrupted create and linked',
    );
    expect(linked.length).toBeGreaterThanOrEqual(1);
    expect(result.rows.filter((row) => row.action === 'created')).toHaveLength(120);
    const users = await siteUsers(site);
    expectNoDuplicates(users);
    expect(differences(normalise(users), cleanFirstSync)).toEqual([]);
  });

  it('the first two write batches of a run carried out by WordPress, one answered 502 and one cut off: their updates, creates and removals are retried, not failed', async () => {
    const site = await useWordPressSite();
    await freshStart(site);
    await startProxy(site.url);
    expect((await harness.runJobs()).code).toBe(0);
    change.apply(harness);
    try {
      let writes = 0;
      // WordPress carries out both; the sync gets a 502 for the first and nothing for the second.
      after = (request) => {
        if (!writesUsers(request) || ++writes > 2) return 'relay';
        return writes === 1 ? { status: 502, body: '<html><body>502 Bad Gateway</body></html>' } : 'reset';
      };
      const result = await harness.runJobs();
      expect(writes).toBeGreaterThanOrEqual(3);
      expect(result.rows.filter((row) => row.action === 'failed')).toEqual([]);
      expect(result.code, result.stderr).toBe(0);
      const users = await siteUsers(site);
      expectNoDuplicates(users);
      expect(differences(normalise(users), cleanAfterChange)).toEqual([]);
    } finally {
      change.undo(harness);
    }
  });

  it('10% of requests 502 and 2% reset (seeded), before or after WordPress handled them, in a first sync: nobody twice, nobody lost, and a rerun ends as a clean run', async () => {
    const site = await useWordPressSite();
    await freshStart(site);
    await startProxy(site.url, { rate502: 0.1, rateReset: 0.02 });
    // Besides the random faults, one create batch for sure lands and its answer is lost.
    let creates = 0;
    after = (request) => (createsUsers(request) && ++creates === 2 ? 'reset' : 'relay');
    const result = await harness.runJobs();
    expect(proxy.faults().status502).toBeGreaterThanOrEqual(2);
    expect(creates).toBeGreaterThanOrEqual(2);
    // Four retries outlast these rates: a failed row here would mean retries gave up.
    expect(result.rows.filter((row) => row.action === 'failed')).toEqual([]);
    await expectNothingLostOrDoubled(site, result, cleanFirstSync);
    await rerunEndsClean(site, cleanFirstSync);
  });

  it('10% of requests 502 and 2% reset (seeded) while updating, creating and disabling users: nobody twice, nobody lost, and a rerun ends as a clean run', async () => {
    const site = await useWordPressSite();
    await freshStart(site);
    await startProxy(site.url);
    expect((await harness.runJobs()).code).toBe(0);
    change.apply(harness);
    try {
      proxy.setRates({ rate502: 0.1, rateReset: 0.02 });
      const result = await harness.runJobs();
      expect(proxy.faults().status502 + proxy.faults().resets).toBeGreaterThanOrEqual(1);
      expect(result.rows.filter((row) => row.action === 'failed')).toEqual([]);
      await expectNothingLostOrDoubled(site, result, cleanAfterChange);
      // Nobody who is still in Entra was disabled.
      const leaverIds = new Set(change.leavers.map((person) => person.id));
      const disabled = (await siteUsers(site)).filter(
        (user) => user.meta.entra_wp_sync_status === 'disabled' && !leaverIds.has(objectIdOf(user)),
      );
      expect(disabled.map((user) => user.username)).toEqual([]);
      await rerunEndsClean(site, cleanAfterChange);
    } finally {
      change.undo(harness);
    }
  });

  it.each([
    {
      outage: 'PHP-FPM is restarted',
      stop: (stack: WordPressStack) => stack.stopPhpFpm(),
      start: (stack: WordPressStack) => stack.startPhpFpm(),
      // nginx answers 502 while no PHP-FPM listens.
      felt: (request: ProxiedRequest) => request.upstreamStatus === 502,
    },
    {
      outage: 'MariaDB is briefly unavailable',
      stop: (stack: WordPressStack) => stack.stopDatabase(),
      start: (stack: WordPressStack) => stack.startDatabase(),
      // WordPress answers 500 "Error establishing a database connection".
      felt: (request: ProxiedRequest) => request.upstreamStatus === 500,
    },
  ])(
    '$outage in the middle of a first sync: nobody twice, nobody lost, and a rerun ends as a clean run',
    async ({ stop, start, felt }) => {
      ownStack ??= await startWordPressStack({ sites: 1 });
      const stack = ownStack;
      const site = await stack.resetSite(0);
      await freshStart(site);
      await startProxy(site.url);
      // At the third user write, the service goes away until the sync has run into the
      // outage at least once, then comes back.
      let writes = 0;
      let outage: Promise<void> | undefined;
      before = (request) => {
        if (writesUsers(request) && ++writes === 3) {
          outage = (async () => {
            await stop(stack);
            await until(() => proxy.requests.some(felt), 'the sync ran into the outage');
            await start(stack);
          })();
        }
        return 'forward';
      };
      const result = await harness.runJobs();
      await outage;
      expect(outage, 'the run ended before its third write').toBeDefined();
      expect(proxy.requests.filter(felt).length).toBeGreaterThanOrEqual(1);
      await expectNothingLostOrDoubled(site, result, cleanFirstSync);
      await rerunEndsClean(site, cleanFirstSync);
    },
  );
});
