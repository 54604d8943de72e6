// On the WordPress backend the cycle's seen users (every Entra object ID read so far, some
// 4 MB at 100,000 users) are sent once each, appended page by page, not with every page;
// the site refuses an append that does not continue the list it holds, and the tool then
// sends the whole list once.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { holdUsersPage, pagesBeforeDone } from '../support/graph-hooks.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { type ProxiedRequest, startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import { adminHeaders, runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await harness?.stop();
  harness = undefined;
});

interface StatePut {
  checkpoint: { seen?: string[]; cycleId: string; pagesDone: number };
  seenAppend?: string[];
  seenCount?: number;
}

const statePuts = (p: WordPressProxy): Array<ProxiedRequest & { sent: StatePut }> =>
  p.requests
    .filter((request) => request.method === 'PUT' && request.route === '/entra-wp-sync/v1/state/staff')
    .map((request) => ({ ...request, sent: JSON.parse(request.body) as StatePut }));

/** Every seen object ID the tool sent to the site: whole lists and appends. */
const idsSent = (p: WordPressProxy): string[] =>
  statePuts(p).flatMap(({ sent }) => sent.seenAppend ?? sent.checkpoint.seen ?? []);

const sorted = (ids: readonly string[]) => [...ids].sort();
const idsOf = (users: readonly FakeUser[]) => sorted(users.map((user) => user.id));

async function linkedIds(h: SyncHarness): Promise<string[]> {
  const users = (await h.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
  return sorted(users.map((user) => String(user.meta.entra_wp_sync_object_id)));
}

async function startProxied(
  people: FakeUser[],
  job: Record<string, unknown>,
): Promise<{ h: SyncHarness; p: WordPressProxy }> {
  harness = await startSyncHarness(people);
  proxy = await startWordPressProxy(harness.site.url);
  await harness.writeConfig({ wordpress: { url: proxy.url }, ...job }, { state: { backend: 'wordpress' } });
  return { h: harness, p: proxy };
}

describe('seen users on the WordPress backend', () => {
  it('a cycle of several pages, over two runs, sends each seen user once', async () => {
    const people = generateUsers(45, 91);
    const { h, p } = await startProxied(people, { limits: { pageSize: 10, maxRuntime: 0.001 } });
    const first = await h.runJobs();
    expect(first.stdout).toContain('10 created; cycle continues next run');
    // The site keeps the list apart from the checkpoint, and gives it back whole.
    const stored = JSON.parse(await runPhpOnSite(`echo get_option('entra_wp_sync_state_staff');`)) as Record<
      string,
      unknown
    >;
    expect(stored).not.toHaveProperty('seen');
    expect((await h.run(['state', 'show', '-c', h.configPath])).stdout).toContain(
      'page 1 done, 10 of 45 users seen',
    );
    await h.writeConfig(
      { wordpress: { url: p.url }, limits: { pageSize: 10 } },
      { state: { backend: 'wordpress' } },
    );
    const second = await h.runJobs();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('35 created; cycle complete');
    expect(sorted(idsSent(p))).toEqual(idsOf(people));
    // Page 1 went whole (the cycle's first save); the first run's last save added nothing;
    // pages 2 to 5 of the second run appended to what the site held; the next cycle starts empty.
    expect(
      statePuts(p).map(({ sent }) =>
        sent.seenAppend
          ? ['append', sent.seenAppend.length, sent.seenCount]
          : ['whole', sent.checkpoint.seen?.length],
      ),
    ).toEqual([
      ['whole', 10],
      ['append', 0, 10],
      ['append', 10, 20],
      ['append', 10, 30],
      ['append', 10, 40],
      ['append', 5, 45],
      ['whole', 0],
    ]);
    expect(await linkedIds(h)).toEqual(idsOf(people));
  });

  it('a run killed with kill -9 mid-cycle, then a rerun: every user seen, sent and created exactly once', async () => {
    const people = generateUsers(60, 92);
    const { h, p } = await startProxied(people, { limits: { pageSize: 10 } });
    // Killed while Graph holds page 4, once pages 1–3 are written and checkpointed.
    const page4 = holdUsersPage(h.graph, 4);
    const killed = h.start(['run', '-c', h.configPath, '--out', join(h.directory, 'killed')]);
    await page4.arrived;
    await pagesBeforeDone(killed, 4);
    killed.child.kill('SIGKILL');
    expect((await killed.result).signal).toBe('SIGKILL');
    page4.release();
    await p.settled();
    h.graph.faults.hold = undefined;
    expect(await linkedIds(h)).toHaveLength(30);
    // What a killed run leaves behind on the site: its lease, to be taken over once it has run out.
    await runPhpOnSite(`
      $lock = get_option('entra_wp_sync_lock_staff');
      $lock['expiresAt'] = time() - 5;
      update_option('entra_wp_sync_lock_staff', $lock, false);
    `);
    const rerun = await h.runJobs();
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('30 created; cycle complete');
    expect(rerun.rows.filter((row) => row.action === 'created')).toHaveLength(30);
    expect(await linkedIds(h)).toEqual(idsOf(people));
    expect(sorted(idsSent(p))).toEqual(idsOf(people));
  });

  it('refuses an append that does not continue the saved list, and the tool then sends the whole list once', async () => {
    const people = generateUsers(30, 93);
    const { h, p } = await startProxied(people, { limits: { pageSize: 10, maxRuntime: 0.001 } });
    expect((await h.runJobs()).code).toBe(0);
    // A run killed between appending its IDs and saving its checkpoint: the site holds one
    // more than the checkpoint counts.
    const appended = await runPhpOnSite(`
      $cycle = json_decode(get_option('entra_wp_sync_state_staff'), true)['cycleId'];
      echo entra_wp_sync_append_seen('staff', $cycle, 10, ['stray-object-id']) ? 'appended' : 'refused';
    `);
    expect(appended).toBe('appended');
    expect((await h.run(['state', 'show', '-c', h.configPath])).stdout).toContain('10 of 30 users seen');
    await h.writeConfig(
      { wordpress: { url: p.url }, limits: { pageSize: 10 } },
      { state: { backend: 'wordpress' } },
    );
    p.requests.length = 0;
    const result = await h.runJobs();
    expect(result.code, result.stderr).toBe(0);
    const puts = statePuts(p);
    const refused = puts.findIndex((put) => put.outcome === 409);
    expect(refused).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(puts[refused]!.body)).toMatchObject({ seenAppend: expect.any(Array), seenCount: 20 });
    // The next save carries the whole list (20), the ones after it append again.
    expect(puts[refused + 1]!.sent.checkpoint.seen).toHaveLength(20);
    expect(puts.slice(refused + 2, -1).map(({ sent }) => [sent.seenAppend?.length, sent.seenCount])).toEqual([
      [10, 30],
    ]);
    // The completed cycle's successor starts with an empty list.
    expect(puts.at(-1)?.sent.checkpoint.seen).toEqual([]);
    expect(await linkedIds(h)).toEqual(idsOf(people));
  });

  it('the site appends only to the list of the same cycle and length, and a missing list is a damaged checkpoint', async () => {
    harness = await startSyncHarness([]);
    const h = harness;
    await h.writeConfig({}, { state: { backend: 'wordpress' } });
    const put = async (body: unknown) => {
      const response = await fetch(`${h.site.restUrl}entra-wp-sync/v1/state/staff`, {
        method: 'PUT',
        headers: adminHeaders(h.site),
        body: JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json()) as { code?: string; seenCount?: number },
      };
    };
    const checkpoint = {
      version: 1,
      job: 'staff',
      cycleId: 'cycle-1',
      cycleStartedAt: '2026-11-23T00:00:00.000Z',
      pagesDone: 1,
      counters: {},
      updatedAt: '2026-11-23T00:00:00.000Z',
    };
    expect(await put({ checkpoint: { ...checkpoint, seen: ['a', 'b'] } })).toMatchObject({
      status: 200,
      body: { seenCount: 2 },
    });
    const mismatch = { status: 409, body: { code: 'entra_wp_sync_seen_mismatch' } };
    expect(await put({ checkpoint, seenAppend: ['c'], seenCount: 4 })).toMatchObject(mismatch);
    expect(
      await put({ checkpoint: { ...checkpoint, cycleId: 'cycle-2' }, seenAppend: ['c'], seenCount: 3 }),
    ).toMatchObject(mismatch);
    expect(await put({ checkpoint, seenAppend: ['c\nd'], seenCount: 3 })).toMatchObject({ status: 400 });
    expect(await put({ checkpoint, seenAppend: [{ id: 'c' }], seenCount: 3 })).toMatchObject({
      status: 400,
      body: { code: 'rest_invalid_param' },
    });
    expect(await put({ checkpoint, seenAppend: ['c'], seenCount: -1 })).toMatchObject({
      status: 400,
      body: { code: 'rest_invalid_param' },
    });
    expect(await put({ checkpoint, seenAppend: ['c'], seenCount: 3 })).toMatchObject({ status: 200 });
    const got = await fetch(`${h.site.restUrl}entra-wp-sync/v1/state/staff`, {
      headers: adminHeaders(h.site),
    });
    expect(((await got.json()) as { checkpoint: { seen: string[] } }).checkpoint.seen).toEqual([
      'a',
      'b',
      'c',
    ]);
    await runPhpOnSite(`delete_option('entra_wp_sync_seen_staff');`);
    const show = await h.run(['state', 'show', '-c', h.configPath]);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain(
      "the site's list of users seen in this cycle does not hold the 3 the checkpoint counts",
    );
    expect(show.stderr).toContain('entra-wp-sync state reset --job staff');
  });
});
