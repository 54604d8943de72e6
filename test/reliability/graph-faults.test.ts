// Throttling, outages, resets, expiring page tokens and delta links,
// and a flaky token endpoint on the Graph side; whatever Graph does, WordPress must end
// exactly as a clean run leaves it.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { useWordPressSite } from '../support/wordpress-site.ts';
import {
  differences,
  expectNoDuplicates,
  type SnapshotUser,
  siteUsers,
  snapshot,
} from './wordpress-snapshot.ts';

const people: FakeUser[] = generateUsers(150, 211, { guestEvery: 25, disabledEvery: 30 });
const editors = people.slice(0, 40).map((person) => person.id);
const job = {
  limits: { pageSize: 20, concurrency: 4 },
  roles: { rules: [{ group: 'Intranet Editors', role: 'editor' }] },
};

let harness: SyncHarness;
/** What a clean run of `people` leaves in WordPress. */
let cleanRun: SnapshotUser[];

async function freshSite(): Promise<void> {
  await useWordPressSite();
  await rm(join(harness.directory, 'state'), { recursive: true, force: true });
  harness.graph.faults.clear();
  harness.graph.requests.length = 0;
}

/** The run's requests to /v1.0 answered with `status` (-1: connection reset). */
const graphAnswers = (status: number) =>
  harness.graph.requests.filter((request) => request.path.startsWith('/v1.0/') && request.status === status)
    .length;

async function expectCleanRunState(): Promise<void> {
  const users = await siteUsers(harness.site);
  expectNoDuplicates(users);
  expect(differences(await snapshot(harness.site), cleanRun)).toEqual([]);
}

beforeAll(async () => {
  harness = await startSyncHarness(people);
  // Node's compile cache makes each CLI start about twice as quick.
  harness.env.NODE_COMPILE_CACHE = join(tmpdir(), 'entra-wp-sync-compile-cache');
  harness.graph.tenant.addGroup({ id: 'g-editors', displayName: 'Intranet Editors', members: editors });
  await harness.writeConfig(job);
  const clean = await harness.runJobs();
  expect(clean.code).toBe(0);
  cleanRun = await snapshot(harness.site);
  // 150 people less 6 guests and 5 disabled accounts (one is both); 38 of them are editors,
  // and so is the site's own editor account.
  expect(cleanRun.filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(140);
  expect(cleanRun.filter((user) => user.roles.includes('editor'))).toHaveLength(1 + 38);
});

afterAll(async () => {
  await harness?.stop();
});

beforeEach(freshSite);

describe('Graph faults', () => {
  it('20% of requests throttled (429, Retry-After 0–2 s), 5% 503 and 2% connection resets, seeded: WordPress ends as after a clean run', async () => {
    const faults = harness.graph.faults;
    faults.seed(9);
    faults.rate429 = 0.2;
    faults.retryAfterRange = [0, 2];
    faults.rate503 = 0.05;
    faults.rateReset = 0.02;
    // Besides the random ones, one of each for sure: a reset of the third page of users
    // and a 503 with Retry-After on the role group's members.
    faults.once({ path: /^\/v1\.0\/users$/, reset: true, skip: 2 });
    faults.once({ path: /transitiveMembers/, status: 503, retryAfter: 1 });
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(0);
    // The faults really happened: throttling, outages and resets on this run's reads.
    expect(graphAnswers(429)).toBeGreaterThanOrEqual(3);
    expect(graphAnswers(503)).toBeGreaterThanOrEqual(1);
    expect(graphAnswers(-1)).toBeGreaterThanOrEqual(1);
    expect(result.rows.filter((row) => row.action === 'failed')).toEqual([]);
    await expectCleanRunState();
  });

  it('a page token that expires mid-cycle: the listing starts over and WordPress ends as after a clean run', async () => {
    let pages = 0;
    harness.graph.faults.onRequest = (path) => {
      // Graph forgets every page token just as the fourth page is asked for.
      if (path === '/v1.0/users' && ++pages === 4) harness.graph.expireSkipTokens();
    };
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('page token has expired');
    expect(harness.graph.requests.some((request) => request.status === 400)).toBe(true);
    // Users of pages read before the expiry are not written twice.
    const created = result.rows.filter((row) => row.action === 'created').map((row) => row.objectId);
    expect(new Set(created).size).toBe(created.length);
    await expectCleanRunState();
  });

  it('a token endpoint that fails twice and then recovers: the run goes on and WordPress ends as after a clean run', async () => {
    harness.graph.faults.tokenFailures = 2;
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(0);
    expect(harness.graph.faults.tokenFailures).toBe(0);
    await expectCleanRunState();
  });

  it.each([
    [400, 'syncStateNotFound'],
    [410, 'Gone'],
  ] as const)(
    'an expired delta link (%i %s) falls back to a full cycle and ends as a clean full run does',
    async (status, _code) => {
      const reference = await deltaReference();
      try {
        await harness.writeConfig({ ...withDeletes, source: { users: {}, delta: true } });
        const first = await harness.runJobs();
        expect(first.code, first.stderr).toBe(0);
        directoryChange.apply();
        harness.graph.expireDeltaLinks(status);
        harness.graph.requests.length = 0;
        const fallback = await harness.runJobs();
        expect(fallback.code, fallback.stderr).toBe(0);
        expect(harness.graph.requests.some((request) => request.status === status)).toBe(true);
        expect(fallback.stderr + fallback.stdout).toContain('a full cycle runs instead');
        expect(fallback.summary).toContain('Cycle complete');
        const users = await siteUsers(harness.site);
        expectNoDuplicates(users);
        expect(differences(await snapshot(harness.site), reference)).toEqual([]);
      } finally {
        directoryChange.undo();
        await harness.writeConfig(job);
      }
    },
  );
});

const withDeletes = { ...job, actions: { delete: 'soft' } };

/** Between two runs: one person renamed, one gone, one new. */
const directoryChange = (() => {
  const [renamed, leaver, newcomer] = [people[3]!, people[5]!, generateUsers(1, 212)[0]!];
  let applied = false;
  return {
    leaver,
    apply() {
      const tenant = harness.graph.tenant;
      tenant.updateUser(renamed.id, { displayName: 'Renamed While Delta Expired' });
      tenant.removeUser(leaver.id);
      tenant.addUser(newcomer);
      applied = true;
    },
    undo() {
      if (!applied) return;
      const tenant = harness.graph.tenant;
      tenant.updateUser(renamed.id, { displayName: renamed.displayName });
      tenant.restoreUser(leaver.id);
      tenant.removeUser(newcomer.id, true);
      tenant.setGroupMembers('g-editors', editors);
      applied = false;
    },
  };
})();

let deltaReferenceRun: Promise<SnapshotUser[]> | undefined;

/** What clean full runs leave across the directory change; computed once, on first use. */
function deltaReference(): Promise<SnapshotUser[]> {
  deltaReferenceRun ??= cleanFullRunsAcrossChange();
  return deltaReferenceRun;
}

/** Clean full-mode runs before and after the directory change, from a fresh site. */
async function cleanFullRunsAcrossChange(): Promise<SnapshotUser[]> {
  try {
    await harness.writeConfig(withDeletes);
    expect((await harness.runJobs()).code).toBe(0);
    directoryChange.apply();
    expect((await harness.runJobs()).code).toBe(0);
    const reference = await snapshot(harness.site);
    const leaver = reference.find((user) => user.meta.entra_wp_sync_object_id === directoryChange.leaver.id);
    expect(leaver?.meta.entra_wp_sync_status).toBe('disabled');
    return reference;
  } finally {
    directoryChange.undo();
    await freshSite();
  }
}
