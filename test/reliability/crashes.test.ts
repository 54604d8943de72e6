// A run killed with SIGKILL at any moment, then run again, leaves every
// in-scope user exactly once and removes exactly the users who left; a damaged checkpoint
// stops the run with `state reset` advice before anything is written.
//
// Kill points are exact requests, drawn from a seeded generator one in each twentieth of
// the run, so that they are spread from the first page to the last removal and the same
// on every run of the suite: a Graph page as it is asked for, or a user write (alone or
// in a /batch/v1 request) before WordPress sees it, or after WordPress has carried it out
// but before the answer reaches the sync. Writes go in batches or one by one, as drawn.
// The sync reads pages ahead of its writes, so a run also dies inside that overlap: with
// Graph holding the request for page N, at the next user write (of page N-2), while page
// N-1 is read but not written.
//
// Each case sets up all it depends on, so it passes alone (-t) and in any order
// (--sequence.shuffle): the tenant it runs against (the first sync's, or the one after the
// deletion phase: two fake Graphs that no case changes), the site (fresh, or a saved
// one restored), a state directory of its own, and the environment of its runs.
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../fixtures/fake-graph/faults.ts';
import { type FakeTenant, type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import type { RunningCli } from '../support/cli-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import {
  type ProxiedRequest,
  startWordPressProxy,
  type WordPressProxy,
  writesUsers,
} from '../support/wordpress-proxy.ts';
import { useWordPressSite } from '../support/wordpress-site.ts';
import { type SavedSite, saveSite } from './saved-site.ts';
import {
  differences,
  expectNoDuplicates,
  normalise,
  objectIdOf,
  type SnapshotUser,
  siteUsers,
  snapshot,
} from './wordpress-snapshot.ts';

const pageSize = 10;
const people: FakeUser[] = generateUsers(100, 301);
const pages = people.length / pageSize;

// The deletion phase: after a first sync, 10 people leave Entra (every other one deleted
// for good), 5 accounts are disabled, 5 people join and 5 are renamed: 15 removals.
const leavers = people.filter((_, index) => index % 10 === 3);
const disabled = people.filter((_, index) => index % 20 === 7);
const renamed = people.filter((_, index) => index % 20 === 15);
const joiners = generateUsers(5, 302);
const removed = [...leavers, ...disabled];
const stayers = people.filter((person) => !removed.includes(person));

type WriteKind = 'create' | 'update' | 'removal';
type KillPoint =
  | { at: 'graph page'; page: number }
  | { at: 'write'; kind: WriteKind; nth: number; timing: 'before' | 'after' }
  | { at: 'overlap'; page: number; timing: 'before' | 'after' };

interface CrashCase {
  name: string;
  point: KillPoint;
  batching: boolean;
  mode: 'soft' | 'hard';
}

function describePoint(point: KillPoint, of: Record<WriteKind, number>): string {
  if (point.at === 'graph page') return `as Graph page ${point.page} of ${pages} is asked for`;
  const when = point.timing === 'before' ? 'before WordPress sees' : 'after WordPress carried out';
  const lost = point.timing === 'after' ? ', answer lost' : '';
  if (point.at === 'overlap')
    return `while Graph holds page ${point.page} read ahead, ${when} the next user write${lost}`;
  return `${when} ${point.kind} ${point.nth} of ${of[point.kind]}${lost}`;
}

const writes = (batching: boolean) => (batching ? 'batched writes' : 'one write per request');

/** One point in each twentieth of the initial sync: 100 creates over 10 pages. */
function initialSyncCases(): CrashCase[] {
  const random = mulberry32(20_240_901);
  return Array.from({ length: 20 }, (_, stratum) => {
    const batching = random() < 0.5;
    const nth = stratum * 5 + 1 + Math.floor(random() * 5);
    const point: KillPoint =
      random() < 0.25
        ? { at: 'graph page', page: Math.ceil(nth / pageSize) }
        : { at: 'write', kind: 'create', nth, timing: random() < 0.5 ? 'before' : 'after' };
    const where = describePoint(point, { create: people.length, update: 0, removal: 0 });
    return { name: `#${stratum + 1} ${where} (${writes(batching)})`, point, batching, mode: 'soft' };
  });
}

/** Three points inside the read-ahead of the initial sync: early, midway and at its last page. */
function overlapCases(): CrashCase[] {
  const points = [
    { page: 3, timing: 'before', batching: true },
    { page: 6, timing: 'after', batching: false },
    { page: pages, timing: 'before', batching: false },
  ] as const;
  return points.map(({ page, timing, batching }, index) => {
    const point: KillPoint = { at: 'overlap', page, timing };
    const where = describePoint(point, { create: people.length, update: 0, removal: 0 });
    return { name: `#${21 + index} ${where} (${writes(batching)})`, point, batching, mode: 'soft' };
  });
}

/**
 * One point in each twentieth of a run with removals: eight while it reads Entra (5
 * creates and 5 updates over 10 pages), twelve among its 15 removals; soft and hard
 * removal in turn.
 */
function deletionPhaseCases(): CrashCase[] {
  const random = mulberry32(20_240_902);
  const counts = { create: joiners.length, update: renamed.length, removal: removed.length };
  return Array.from({ length: 20 }, (_, stratum) => {
    const batching = random() < 0.5;
    const mode = stratum % 2 === 0 ? 'soft' : 'hard';
    const timing = random() < 0.5 ? 'before' : 'after';
    let point: KillPoint;
    if (stratum < 8) {
      const roll = random();
      point =
        roll < 0.4
          ? { at: 'graph page', page: 1 + Math.floor(stratum * 1.25 + random() * 1.25) }
          : {
              at: 'write',
              kind: roll < 0.7 ? 'create' : 'update',
              nth: 1 + Math.floor(random() * 5),
              timing,
            };
    } else {
      const share = removed.length / 12;
      const nth = Math.min(removed.length, Math.floor((stratum - 8) * share + 1 + random() * share));
      point = { at: 'write', kind: 'removal', nth, timing };
    }
    const where = describePoint(point, counts);
    return { name: `#${stratum + 1} ${mode} removal, ${where} (${writes(batching)})`, point, batching, mode };
  });
}

/** The user writes a request carries: one, or each item of a /batch/v1 request. */
function writeKinds(request: ProxiedRequest): WriteKind[] {
  if (!writesUsers(request)) return [];
  const items =
    request.route === '/batch/v1'
      ? ((JSON.parse(request.body) as { requests?: Array<{ method: string; path: string; body?: unknown }> })
          .requests ?? [])
      : [
          {
            method: request.method,
            path: request.url,
            body: request.body ? JSON.parse(request.body) : undefined,
          },
        ];
  return items.map((item) => {
    if (item.method === 'DELETE') return 'removal';
    if (!/\/wp\/v2\/users\/\d+/.test(decodeURIComponent(item.path))) return 'create';
    return JSON.stringify(item.body ?? {}).includes('"entra_wp_sync_status":"disabled"')
      ? 'removal'
      : 'update';
  });
}

/** The tenant of the first sync, and the same tenant after the deletion phase. */
let initialTenant: SyncHarness;
let changedTenant: SyncHarness;
/** The tenant, state directory and run environment of the case under way (see startCase). */
let harness: SyncHarness;
let stateDirectory = '';
let runEnv: NodeJS.ProcessEnv = {};
let proxy: WordPressProxy;
/** The running CLI that the armed point kills, and what it has done so far. */
let victim: { cli: RunningCli; point: KillPoint; done: Record<WriteKind, number>; pages: number } | undefined;
let killed = false;
let runs = 0;
let directories = 0;

function kill(): void {
  if (!victim) return;
  victim.cli.child.kill('SIGKILL');
  victim = undefined;
  killed = true;
  releaseReadAhead();
}

/** Whether Graph holds the page an overlap point waits for, and how to let it answer. */
let readAheadHeld = false;
let releaseReadAhead: () => void = () => undefined;

/**
 * Counts the writes of a request as it arrives; true when it carries the write the armed
 * point kills at (the kill comes now, or once WordPress has answered it).
 */
function carriesKillPoint(request: ProxiedRequest): boolean {
  if (victim?.point.at === 'overlap') return readAheadHeld && writeKinds(request).length > 0;
  if (victim?.point.at !== 'write') return false;
  const { point, done } = victim;
  const before = done[point.kind];
  for (const kind of writeKinds(request)) done[kind]++;
  return before < point.nth && done[point.kind] >= point.nth;
}

/** The request whose answer the armed point loses. */
let killAfter: number | undefined;

/** A state directory no other case has used. */
const newStateDirectory = () => join(initialTenant.directory, `state-${++directories}`);

/**
 * What a case starts from: the tenant it runs against, the site (a fresh install, or a
 * saved one put back) and a state directory of its own (empty, or the saved one's).
 */
async function startCase(tenant: 'initial' | 'changed', site: 'fresh' | SavedSite): Promise<void> {
  harness = tenant === 'initial' ? initialTenant : changedTenant;
  stateDirectory = newStateDirectory();
  runEnv = {};
  if (site === 'fresh') await useWordPressSite();
  else await site.restore(stateDirectory);
}

/** Writes the case's jobs.yaml; its runs write one user per request unless `batching`. */
async function configure(mode: 'soft' | 'hard', batching: boolean, limits: Record<string, unknown> = {}) {
  runEnv = {
    // Some 100 CLI starts: Node's compile cache makes each one about twice as quick.
    NODE_COMPILE_CACHE: join(tmpdir(), 'entra-wp-sync-compile-cache'),
    ENTRA_WP_SYNC_BATCH: batching ? 'on' : 'off',
  };
  await harness.writeConfig(
    {
      wordpress: { url: proxy.url },
      limits: { pageSize, concurrency: 2, ...limits },
      actions:
        mode === 'soft' ? { delete: 'soft' } : { delete: 'hard', reassignPostsTo: harness.site.editorUser },
      safety: { maxDeletes: 50 },
    },
    { state: { directory: stateDirectory } },
  );
}

/** Starts a run, kills it at `point`, and returns once WordPress has finished what it was sent. */
async function runKilledAt(point: KillPoint): Promise<void> {
  killed = false;
  killAfter = undefined;
  readAheadHeld = false;
  const cli = harness.start(
    ['run', '-c', harness.configPath, '--out', join(harness.directory, `killed-${++runs}`)],
    runEnv,
  );
  victim = { cli, point, done: { create: 0, update: 0, removal: 0 }, pages: 0 };
  const result = await cli.result;
  victim = undefined;
  // A killed sync's last requests still land in WordPress; look only once they have.
  await proxy.settled();
  expect(
    killed && result.signal === 'SIGKILL',
    `the run ended before the kill point:\n${result.stderr}`,
  ).toBe(true);
}

async function rerun(): Promise<void> {
  const result = await harness.runJobs([], runEnv);
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  expect(result.rows.filter((row) => row.action === 'failed')).toEqual([]);
}

async function expectState(expected: SnapshotUser[]): Promise<void> {
  const users = await siteUsers(harness.site);
  expectNoDuplicates(users);
  expect(differences(normalise(users), expected)).toEqual([]);
}

/** What clean runs leave: the first sync, and the deletion phase in each mode. */
const cleanRuns = new Map<'initial' | 'soft' | 'hard', SnapshotUser[]>();
let synced: SavedSite;
let deletionPhase: Promise<void> | undefined;

/** Between the first sync and the deletion phase, in Entra. */
function changeTenant(tenant: FakeTenant): void {
  leavers.forEach((person, index) => {
    tenant.removeUser(person.id, index % 2 === 1);
  });
  for (const person of disabled) tenant.updateUser(person.id, { accountEnabled: false });
  for (const person of renamed)
    tenant.updateUser(person.id, { displayName: `${person.displayName} (renamed)` });
  for (const person of joiners) tenant.addUser(person);
}

beforeAll(async () => {
  // Both reset this worker's site, which the first sync below starts from.
  changedTenant = await startSyncHarness(people);
  changeTenant(changedTenant.graph.tenant);
  initialTenant = await startSyncHarness(people);
  proxy = await startWordPressProxy(initialTenant.site.url, {
    before: (request) => {
      if (!carriesKillPoint(request)) return 'forward';
      if (
        (victim?.point.at === 'write' || victim?.point.at === 'overlap') &&
        victim.point.timing === 'after'
      ) {
        killAfter = request.number;
        return 'forward';
      }
      kill();
      return 'reset';
    },
    after: (request) => {
      if (request.number !== killAfter) return 'relay';
      killAfter = undefined;
      kill();
      return 'reset';
    },
  });
  for (const tenant of [initialTenant, changedTenant]) {
    tenant.graph.faults.onRequest = (path) => {
      if (path !== '/v1.0/users' || victim?.point.at !== 'graph page') return;
      if (++victim.pages === victim.point.page) kill();
    };
    tenant.graph.faults.hold = (path) => {
      if (path !== '/v1.0/users' || victim?.point.at !== 'overlap') return undefined;
      if (++victim.pages !== victim.point.page) return undefined;
      readAheadHeld = true;
      return new Promise<void>((resolve) => {
        releaseReadAhead = resolve;
      });
    };
  }
  await startCase('initial', 'fresh');
  await configure('soft', true);
  await rerun();
  expect(initialTenant.graph.requests.filter((request) => request.path === '/v1.0/users')).toHaveLength(
    pages,
  );
  cleanRuns.set('initial', await snapshot(harness.site));
  synced = await saveSite(harness.site, stateDirectory, 'crash_synced');
});

afterAll(async () => {
  await synced?.drop();
  await proxy?.close();
  await initialTenant?.stop();
  await changedTenant?.stop();
});

/** Records a clean run of the deletion phase in each mode, once, from the synced site. */
function cleanDeletionRuns(): Promise<void> {
  deletionPhase ??= (async () => {
    for (const mode of ['soft', 'hard'] as const) {
      await startCase('changed', synced);
      await configure(mode, true);
      await rerun();
      cleanRuns.set(mode, await snapshot(harness.site));
    }
  })();
  return deletionPhase;
}

describe('Crashes', () => {
  for (const { name, point, batching } of [...initialSyncCases(), ...overlapCases()]) {
    it(`kill -9 in a first sync ${name}, then a rerun: every user exactly once`, async () => {
      await startCase('initial', 'fresh');
      await configure('soft', batching);
      await runKilledAt(point);
      const partial = await siteUsers(harness.site);
      expectNoDuplicates(partial);
      expect(partial.filter((user) => user.meta.entra_wp_sync_status === 'disabled')).toEqual([]);
      await rerun();
      await expectState(cleanRuns.get('initial')!);
    });
  }

  // The side file of seen users and the checkpoint are two files: a kill between them, or
  // while one is rewritten, must leave a state the next run can resume from.
  const stateWrites = [
    {
      name: 'as a resumed cycle starts rewriting its list of seen users',
      at: 'seen-rewrite',
      nth: 1,
      resumed: true,
    },
    {
      name: 'between a resumed cycle saving its seen users and its checkpoint',
      at: 'checkpoint-rename',
      nth: 1,
      resumed: true,
    },
    {
      name: 'as a finished cycle hands over to the next one (seen users reset, checkpoint not yet replaced)',
      at: 'checkpoint-rename',
      nth: pages + 1,
      resumed: false,
    },
    {
      name: 'as a finished cycle starts the next one’s empty list of seen users',
      at: 'seen-rewrite',
      nth: 2,
      resumed: false,
    },
  ];

  for (const { name, at, nth, resumed } of stateWrites) {
    it(`kill -9 ${name}: the next run resumes without \`state reset\` and ends as a clean run`, async () => {
      await startCase('initial', 'fresh');
      if (resumed) {
        // A first run stops after one page (maxRuntime): the cycle is resumed next time.
        await configure('soft', true, { maxRuntime: 0.001 });
        const first = await harness.runJobs([], runEnv);
        expect(first.stdout).toContain('cycle continues next run');
      }
      await configure('soft', true);
      const hook = fileURLToPath(new URL('./kill-at-state-write.ts', import.meta.url));
      const events = join(harness.directory, `state-writes-${++runs}.log`);
      // Only the killed run loads the hook; the rerun below runs with the case's runEnv.
      const result = await harness.run(
        ['run', '-c', harness.configPath, '--out', join(harness.directory, `x-${runs}`)],
        {
          ...runEnv,
          NODE_OPTIONS: `--import ${hook}`,
          ENTRA_WP_SYNC_TEST_KILL_AT: at,
          ENTRA_WP_SYNC_TEST_KILL_NTH: String(nth),
          ENTRA_WP_SYNC_TEST_KILL_LOG: events,
        },
      );
      expect(
        result.signal,
        `the run was not killed ${at} #${nth}:\n${await readFile(events, 'utf8').catch(() => '')}`,
      ).toBe('SIGKILL');
      await proxy.settled();
      await rerun();
      await expectState(cleanRuns.get('initial')!);
      // The rerun took the job's lock and cleared what the killed write left aside.
      expect((await readdir(stateDirectory)).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    });
  }

  for (const { name, point, batching, mode } of deletionPhaseCases()) {
    it(`kill -9 in a run with removals ${name}, then a rerun: the leavers removed, nobody else`, async () => {
      await cleanDeletionRuns();
      await startCase('changed', synced);
      await configure(mode, batching);
      await runKilledAt(point);
      const partial = await siteUsers(harness.site);
      expectNoDuplicates(partial);
      // Whatever the moment, nobody still in Entra was disabled or deleted.
      const present = new Map(partial.map((user) => [objectIdOf(user), user]));
      for (const person of stayers) {
        const user = present.get(person.id.toLowerCase());
        expect(user, `${person.userPrincipalName} is gone`).toBeDefined();
        expect(user?.meta.entra_wp_sync_status, `${person.userPrincipalName} was disabled`).not.toBe(
          'disabled',
        );
        expect(user?.roles, `${person.userPrincipalName} lost their role`).toEqual(['subscriber']);
      }
      await rerun();
      await expectState(cleanRuns.get(mode)!);
    });
  }

  const checkpointFile = () => join(stateDirectory, 'staff.checkpoint.json');
  const seenFile = () => join(stateDirectory, 'staff.seen');
  let midCycle: Promise<SavedSite> | undefined;
  let intact = '';
  let beforeDamage: SnapshotUser[] = [];

  /**
   * A synced site, the deletion phase in Entra, and a cycle stopped after its first page:
   * saved once, put back by each case that starts from it.
   */
  function savedMidCycle(): Promise<SavedSite> {
    midCycle ??= (async () => {
      await startCase('changed', synced);
      await configure('soft', true, { maxRuntime: 0.001 });
      const first = await harness.runJobs([], runEnv);
      expect(first.stdout).toContain('cycle continues next run');
      intact = await readFile(checkpointFile(), 'utf8');
      expect(JSON.parse(intact)).toMatchObject({ job: 'staff', pagesDone: 1 });
      beforeDamage = await snapshot(harness.site);
      return saveSite(harness.site, stateDirectory, 'crash_midcycle');
    })();
    return midCycle;
  }

  /** The mid-cycle site and state put back, with a config that would finish the cycle. */
  async function startMidCycle(): Promise<void> {
    await startCase('changed', await savedMidCycle());
    await configure('soft', true);
  }

  afterAll(async () => {
    await (await midCycle)?.drop();
  });

  const damages: Array<[string, 'checkpoint' | 'seen', () => Promise<void>]> = [
    [
      'cut off halfway through',
      'checkpoint',
      () => writeFile(checkpointFile(), intact.slice(0, intact.length / 2)),
    ],
    ['cut to 0 bytes', 'checkpoint', () => writeFile(checkpointFile(), '')],
    [
      'overwritten with binary garbage',
      'checkpoint',
      () =>
        writeFile(
          checkpointFile(),
          Buffer.from(Array.from({ length: 512 }, (_, index) => (index * 131) % 256)),
        ),
    ],
    [
      'that is JSON of the wrong shape (an array)',
      'checkpoint',
      () => writeFile(checkpointFile(), '[1, 2, 3]'),
    ],
    [
      'that is JSON without the cycle’s fields',
      'checkpoint',
      () => writeFile(checkpointFile(), JSON.stringify({ version: 1, job: 'staff' })),
    ],
    [
      'whose counters are null',
      'checkpoint',
      () => writeFile(checkpointFile(), JSON.stringify({ ...JSON.parse(intact), counters: null })),
    ],
    [
      'of another job',
      'checkpoint',
      () => writeFile(checkpointFile(), intact.replace('"job":"staff"', '"job":"contractors"')),
    ],
    ['whose list of seen users is cut short', 'seen', () => truncate(seenFile(), 40)],
  ];

  for (const [what, file, damage] of damages) {
    it(`a checkpoint ${what}: the run stops (exit 1), names the damaged file, advises \`state reset\`, and writes nothing`, async () => {
      await startMidCycle();
      await damage();
      const damaged = await readFile(file === 'seen' ? seenFile() : checkpointFile());
      proxy.requests.length = 0;
      const result = await harness.runJobs([], runEnv);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(file === 'seen' ? seenFile() : checkpointFile());
      expect(result.stderr).toContain('entra-wp-sync state reset --job staff');
      expect(proxy.count(writesUsers), 'user writes sent to WordPress').toBe(0);
      expect(differences(await snapshot(harness.site), beforeDamage)).toEqual([]);
      // The damaged file is left for a person to look at.
      expect(await readFile(file === 'seen' ? seenFile() : checkpointFile())).toEqual(damaged);
    });
  }

  it('after `state reset` on a damaged checkpoint, the next run syncs a fresh cycle: the leavers removed, nobody else', async () => {
    await cleanDeletionRuns();
    await startMidCycle();
    await writeFile(checkpointFile(), intact.slice(0, 10));
    const reset = await harness.run(['state', 'reset', '--job', 'staff', '-c', harness.configPath], runEnv);
    expect(reset.code, reset.stderr).toBe(0);
    await rerun();
    await expectState(cleanRuns.get('soft')!);
  });
});
