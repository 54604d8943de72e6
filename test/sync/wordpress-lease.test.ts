// The WordPress backend's run lock is a lease: a run killed outright (SIGKILL, a cancelled
// workflow, a runner timeout) blocks its job for at most 2 minutes, a live run keeps it by
// renewing it, a run that finds the job held skips it without failing, `state unlock`
// frees a lock by hand, and of runs racing for a lock exactly one gets it.
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { startCli } from '../support/cli-process.ts';
import { holdUsersPage, pagesBeforeDone, runSignalledAtPage } from '../support/graph-hooks.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import { adminHeaders, runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await harness?.stop();
  harness = undefined;
});

interface SiteLock {
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
  runUrl: string;
  expiresAt: number;
}

const lockOnSite = async (): Promise<SiteLock | false> =>
  JSON.parse(await runPhpOnSite(`echo wp_json_encode(get_option('entra_wp_sync_lock_staff'));`)) as
    | SiteLock
    | false;

/** Moves the lease's end of the lock on the site, as if its holder had stopped renewing it long ago. */
const expireLock = () =>
  runPhpOnSite(`
    $lock = get_option('entra_wp_sync_lock_staff');
    $lock['expiresAt'] = time() - 5;
    update_option('entra_wp_sync_lock_staff', $lock, false);
  `);

const linkedUsers = async (h: SyncHarness) =>
  (await h.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);

/** Rejects when `promise` has not settled within `ms`: the thing waited for did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const github = {
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'contoso/hr-sync',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '2',
};

describe('the run lock on the site is a lease', () => {
  it('a run killed with SIGKILL leaves a lease of at most 2 minutes: the next run skips the job naming the holder (exit 0), and takes over once the lease has run out', async () => {
    harness = await startSyncHarness(generateUsers(30, 81));
    const h = harness;
    await h.writeConfig({ limits: { pageSize: 10 } }, { state: { backend: 'wordpress' } });
    const seen: { lock?: SiteLock } = {};
    const killed = await runSignalledAtPage(h, {
      page: 2,
      signal: 'SIGKILL',
      async whileHeld(cli) {
        const lock = await lockOnSite();
        if (!lock) throw new Error('the running sync holds no lock on the site');
        seen.lock = lock;
        const now = Date.now() / 1000;
        expect(lock.expiresAt).toBeLessThanOrEqual(Math.ceil(now) + 120);
        expect(lock.expiresAt).toBeGreaterThan(now + 60);
        expect(lock).toMatchObject({ pid: cli.child.pid, host: hostname() });
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const lock = seen.lock;
    if (!lock) throw new Error('the running sync held no lock on the site');
    expect(await linkedUsers(h)).toHaveLength(10);

    // While the lease lasts: skipped, not failed, with who holds it and until when.
    const skipped = await h.runJobs();
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain(
      `warn: staff: Job "staff" is already running: run ${lock.runId} on ${hostname()}, pid ${lock.pid}, since ${lock.startedAt}; its lease frees at ${new Date(lock.expiresAt * 1000).toISOString()}`,
    );
    expect(skipped.stderr).toContain('`entra-wp-sync state unlock --job staff`');
    expect(skipped.stdout).toContain('staff: skipped, another run holds the job');
    expect(skipped.rows).toEqual([]);
    expect(await linkedUsers(h)).toHaveLength(10);

    // Once it has run out, the next run takes the job over and finishes the cycle.
    await expireLock();
    const resumed = await h.runJobs();
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('20 created; cycle complete');
    const users = await linkedUsers(h);
    expect(users).toHaveLength(30);
    expect(new Set(users.map((user) => user.meta.entra_wp_sync_object_id)).size).toBe(30);
    expect(await lockOnSite()).toBe(false);
  });

  it('the lock of a run inside GitHub Actions names its run attempt, and a run that finds it shows it', async () => {
    harness = await startSyncHarness(generateUsers(3, 82));
    const h = harness;
    await h.writeConfig({}, { state: { backend: 'wordpress' } });
    const page = holdUsersPage(h.graph, 1);
    // GitHub's variables as a workflow run sets them.
    const action = startCli(['run', '-c', h.configPath, '--out', join(h.directory, 'action')], {
      ...h.env,
      ...github,
    });
    await page.arrived;
    const lock = await lockOnSite();
    if (!lock) throw new Error('the running sync holds no lock on the site');
    expect(lock.runUrl).toBe('https://github.com/contoso/hr-sync/actions/runs/4242/attempts/2');
    const skipped = await h.runJobs();
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain(
      `Job "staff" is already running: run ${lock.runId} (https://github.com/contoso/hr-sync/actions/runs/4242/attempts/2) on ${hostname()}, pid ${lock.pid}`,
    );
    page.release();
    const finished = await action.result;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toContain('3 created; cycle complete');
  });

  it('a heartbeat renews the lease while a long phase saves no checkpoint', async () => {
    harness = await startSyncHarness(generateUsers(5, 83));
    const h = harness;
    let initial: number | undefined;
    let moved = (_at: number) => {};
    const renewed = new Promise<number>((resolve) => {
      moved = resolve;
    });
    proxy = await startWordPressProxy(h.site.url, {
      after: (request, status, body) => {
        if (request.method !== 'POST' || request.route !== '/entra-wp-sync/v1/lock/staff' || status !== 200)
          return 'relay';
        const at = (JSON.parse(body) as { lock: SiteLock }).lock.expiresAt;
        initial ??= at;
        if (at > initial) moved(at);
        return 'relay';
      },
    });
    const p = proxy;
    await h.writeConfig({ wordpress: { url: p.url } }, { state: { backend: 'wordpress' } });
    h.env.ENTRA_WP_SYNC_LEASE_RENEW_MS = '200';
    // Held at the first page: the lock is taken, and no checkpoint is saved until the page is done.
    const page = holdUsersPage(h.graph, 1);
    const running = h.start(['run', '-c', h.configPath, '--out', join(h.directory, 'long')]);
    await page.arrived;
    const taken = await lockOnSite();
    if (!taken) throw new Error('the running sync holds no lock on the site');
    const at = await within(renewed, 15_000, 'a renewal of the lease while the page was held');
    // Later than the lease the run took the lock with, and that is what the site holds now.
    expect(at).toBeGreaterThan(initial ?? Number.POSITIVE_INFINITY);
    const after = await lockOnSite();
    expect(after && { runId: after.runId, movedOn: after.expiresAt >= at }).toEqual({
      runId: taken.runId,
      movedOn: true,
    });
    expect(p.count((request) => request.method === 'PUT')).toBe(0);
    page.release();
    const result = await running.result;
    expect(result.code, result.stderr).toBe(0);
    expect(await lockOnSite()).toBe(false);
  });

  it.each([
    ['its next checkpoint save', undefined],
    ['its heartbeat, before the page is done', '200'],
  ])(
    'a run whose lease another run took over, found out by %s, stops writing at the next page and says so',
    async (_how, renewMs) => {
      harness = await startSyncHarness(generateUsers(30, 84));
      const h = harness;
      let noticed = () => {};
      const refusedRenewal = new Promise<void>((resolve) => {
        noticed = resolve;
      });
      proxy = await startWordPressProxy(h.site.url, {
        after: (request, status) => {
          if (request.method === 'POST' && request.route === '/entra-wp-sync/v1/lock/staff' && status === 409)
            noticed();
          return 'relay';
        },
      });
      const p = proxy;
      await h.writeConfig(
        { wordpress: { url: p.url }, limits: { pageSize: 10 } },
        { state: { backend: 'wordpress' } },
      );
      if (renewMs) h.env.ENTRA_WP_SYNC_LEASE_RENEW_MS = renewMs;
      const page = holdUsersPage(h.graph, 2);
      const running = h.start(['run', '-c', h.configPath, '--out', join(h.directory, 'lost')]);
      await page.arrived;
      await pagesBeforeDone(running, 2);
      // Its lease ran out (the runner was paused, say) and another run took the job over.
      await runPhpOnSite(`
        update_option('entra_wp_sync_lock_staff', ['runId' => 'run-b', 'pid' => 77, 'host' => 'runner-9', 'startedAt' => '2026-11-23T10:00:00Z', 'runUrl' => '', 'expiresAt' => time() + 120], false);
      `);
      if (renewMs) await within(refusedRenewal, 15_000, 'a renewal refused because run-b holds the job');
      const putsBefore = p.count((request) => request.method === 'PUT');
      page.release();
      const result = await running.result;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `Job "staff": run run-b on runner-9, pid 77, since 2026-11-23T10:00:00Z took the job over after this run's lease ran out; this run stopped writing`,
      );
      // It saved nothing over the checkpoint and left the other run's lock. (It may have
      // read page 3 ahead while page 2 was written: a read is not a write.)
      const checkpoint = JSON.parse(await runPhpOnSite(`echo get_option('entra_wp_sync_state_staff');`)) as {
        pagesDone: number;
      };
      expect(checkpoint.pagesDone).toBe(1);
      expect(await lockOnSite()).toMatchObject({ runId: 'run-b', host: 'runner-9' });
      // Told by its heartbeat, it does not even try to save page 2.
      if (renewMs) expect(p.count((request) => request.method === 'PUT')).toBe(putsBefore);
    },
  );
});

describe('state unlock', () => {
  it('frees a live lock on the site, says who held it, and the next run proceeds', async () => {
    harness = await startSyncHarness(generateUsers(3, 85));
    const h = harness;
    await h.writeConfig({}, { state: { backend: 'wordpress' } });
    const take = await fetch(`${h.site.restUrl}entra-wp-sync/v1/lock/staff`, {
      method: 'POST',
      headers: adminHeaders(h.site),
      body: JSON.stringify({
        runId: 'gone-run',
        pid: 4711,
        host: 'runner-7',
        startedAt: '2026-11-23T00:00:00Z',
        runUrl: 'https://github.com/contoso/hr-sync/actions/runs/99/attempts/1',
      }),
    });
    expect(take.status).toBe(200);
    const refused = await h.runJobs();
    expect(refused.code).toBe(0);
    expect(refused.stderr).toContain(
      'already running: run gone-run (https://github.com/contoso/hr-sync/actions/runs/99/attempts/1) on runner-7, pid 4711, since 2026-11-23T00:00:00Z; its lease frees at',
    );
    const unlock = await h.run(['state', 'unlock', '--job', 'staff', '-c', h.configPath]);
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.stdout).toContain(
      'staff: lock freed; it was held by run gone-run (https://github.com/contoso/hr-sync/actions/runs/99/attempts/1) on runner-7, pid 4711, since 2026-11-23T00:00:00Z (its lease ran until',
    );
    expect(await lockOnSite()).toBe(false);
    const again = await h.run(['state', 'unlock', '--job', 'staff', '-c', h.configPath]);
    expect(again.stdout).toContain('staff: no run held the lock; nothing to free.');
    const next = await h.runJobs();
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('3 created; cycle complete');
  });

  it('frees a lock file of the file backend, and needs --job', async () => {
    harness = await startSyncHarness(generateUsers(3, 86));
    const h = harness;
    await h.writeConfig();
    await mkdir(join(h.directory, 'state'), { recursive: true });
    // A live process (this test's), so the tool cannot tell the lock is abandoned.
    await writeFile(
      join(h.directory, 'state', 'staff.lock'),
      JSON.stringify({
        runId: 'other',
        pid: process.pid,
        host: hostname(),
        startedAt: '2026-11-23T01:00:00Z',
      }),
    );
    expect((await h.run(['state', 'unlock', '-c', h.configPath])).code).toBe(2);
    const unlock = await h.run(['state', 'unlock', '--job', 'staff', '-c', h.configPath]);
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.stdout).toContain(
      `staff: lock freed; it was held by run other on ${hostname()}, pid ${process.pid}, since 2026-11-23T01:00:00Z. Should that process in fact still be running, stop it`,
    );
    const next = await h.runJobs();
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('3 created; cycle complete');
  });
});

describe('taking the lock is atomic', () => {
  const race = async (h: SyncHarness, racers: number) => {
    const answers = await Promise.all(
      Array.from({ length: racers }, async (_, index) => {
        const response = await fetch(`${h.site.restUrl}entra-wp-sync/v1/lock/staff`, {
          method: 'POST',
          headers: adminHeaders(h.site),
          body: JSON.stringify({ runId: `racer-${index}`, host: `runner-${index}`, startedAt: 'now' }),
        });
        return { runId: `racer-${index}`, status: response.status };
      }),
    );
    return {
      winners: answers.filter((answer) => answer.status === 200).map((answer) => answer.runId),
      refused: answers.filter((answer) => answer.status === 409).length,
    };
  };

  it('of many runs racing for an expired lease, exactly one takes it over', async () => {
    harness = await startSyncHarness([]);
    const h = harness;
    for (let round = 0; round < 12; round++) {
      // A lease left by a killed run, run out a minute ago.
      await runPhpOnSite(`
        update_option('entra_wp_sync_lock_staff', ['runId' => 'killed-run', 'pid' => 1, 'host' => 'runner-0', 'startedAt' => '2026-11-23T00:00:00Z', 'runUrl' => '', 'expiresAt' => time() - 60], false);
      `);
      const { winners, refused } = await race(h, 16);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(refused).toBe(15);
      expect(await lockOnSite()).toMatchObject({ runId: winners[0] });
    }
  });

  it('of many runs racing for a free lock, exactly one takes it', async () => {
    harness = await startSyncHarness([]);
    const h = harness;
    for (let round = 0; round < 12; round++) {
      await runPhpOnSite(`delete_option('entra_wp_sync_lock_staff');`);
      const { winners, refused } = await race(h, 16);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(refused).toBe(15);
      expect(await lockOnSite()).toMatchObject({ runId: winners[0] });
    }
  });

  it("types the lock routes' new arguments", async () => {
    harness = await startSyncHarness([]);
    const h = harness;
    const call = async (method: string, body: unknown) => {
      const response = await fetch(`${h.site.restUrl}entra-wp-sync/v1/lock/staff`, {
        method,
        headers: adminHeaders(h.site),
        body: JSON.stringify(body),
      });
      return [response.status, ((await response.json()) as { code?: string }).code];
    };
    expect(await call('POST', { runId: 'r', pid: 'many' })).toEqual([400, 'rest_invalid_param']);
    expect(await call('POST', { runId: 'r', pid: -1 })).toEqual([400, 'rest_invalid_param']);
    expect(await call('POST', { runId: 'r', runUrl: ['x'] })).toEqual([400, 'rest_invalid_param']);
    expect(await call('DELETE', { force: 'perhaps' })).toEqual([400, 'rest_invalid_param']);
    expect(await call('DELETE', {})).toEqual([400, 'entra_wp_sync_bad_lock']);
  });
});
