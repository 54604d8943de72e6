// Reading Graph while WordPress writes: the next pages are asked for while a page's users
// are written, a throttled page read does not hold up the writes before it, a run killed
// with pages read ahead but not written resumes at the first page it did not finish, and
// an initial sync that fills a small site switches to per-page lookups.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { holdUsersPage, pagesBeforeDone, usersPageRequests } from '../support/graph-hooks.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { createsUsers, startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;
const releases: Array<() => void> = [];

afterEach(async () => {
  for (const release of releases.splice(0)) release();
  await proxy?.close();
  proxy = undefined;
  await harness?.stop();
  harness = undefined;
});

/** A gate a test opens; opened anyway after the test, so that nothing stays held. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  releases.push(open);
  return { opened, open };
}

/** Holds the first request that creates users at the proxy until `until` is opened. */
async function holdFirstCreate(h: SyncHarness) {
  const arrived = gate();
  const release = gate();
  let seen = false;
  proxy = await startWordPressProxy(h.site.url, {
    before: (request) => {
      if (seen || !createsUsers(request)) return undefined;
      seen = true;
      arrived.open();
      return release.opened.then(() => 'forward' as const);
    },
  });
  return { arrived: arrived.opened, release: release.open, url: proxy.url };
}

const linkedUsers = async (h: SyncHarness) =>
  (await h.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);

const created = (rows: Array<Record<string, unknown>>) => rows.filter((row) => row.action === 'created');

describe('reading Graph while WordPress writes', () => {
  it('asks for the next two pages while the first page is still being written', async () => {
    harness = await startSyncHarness(generateUsers(50, 711));
    const write = await holdFirstCreate(harness);
    await harness.writeConfig({ wordpress: { url: write.url }, limits: { pageSize: 10 } });
    const page3 = holdUsersPage(harness.graph, 3);
    releases.push(page3.release);
    const cli = harness.start(['run', '-c', harness.configPath, '--out', join(harness.directory, 'ahead')]);
    // Page 1's users are held at WordPress; Graph gets the requests for pages 2 and 3 meanwhile.
    await Promise.race([Promise.all([write.arrived, page3.arrived]), cli.result]);
    expect(usersPageRequests(harness.graph)).toHaveLength(3);
    write.release();
    page3.release();
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect(created(await harness.readResults(join(harness.directory, 'ahead')))).toHaveLength(50);
    const users = await linkedUsers(harness);
    expect(new Set(users.map((user) => user.meta.entra_wp_sync_object_id)).size).toBe(50);
    expect(users).toHaveLength(50);
  });

  it('a page throttled by Graph (429, Retry-After) does not hold up the writes of the page before it', async () => {
    harness = await startSyncHarness(generateUsers(30, 712));
    const write = await holdFirstCreate(harness);
    await harness.writeConfig({ wordpress: { url: write.url }, limits: { pageSize: 10 } });
    // The first request for page 2 is throttled; its retry (the third page request) is held.
    harness.graph.faults.once({ path: /^\/v1\.0\/users$/, status: 429, retryAfter: 1, skip: 1 });
    const retry = holdUsersPage(harness.graph, 3);
    releases.push(retry.release);
    const cli = harness.start([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'throttled'),
    ]);
    await Promise.race([write.arrived, cli.result]);
    // Page 1's writes wait at WordPress while Graph throttles page 2 and the retry comes in...
    await Promise.race([retry.arrived, cli.result]);
    expect(usersPageRequests(harness.graph).map((request) => request.status)).toEqual([200, 429, 0]);
    write.release();
    // ...and page 1 is written and checkpointed while that retry is still unanswered.
    await Promise.race([pagesBeforeDone(cli, 2), cli.result]);
    expect(usersPageRequests(harness.graph)).toHaveLength(3);
    retry.release();
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect(created(await harness.readResults(join(harness.directory, 'throttled')))).toHaveLength(30);
    expect(await linkedUsers(harness)).toHaveLength(30);
  });

  it('kill -9 with pages read ahead but not written: the rerun reads them again and creates nobody twice', async () => {
    harness = await startSyncHarness(generateUsers(50, 713));
    const write = await holdFirstCreate(harness);
    await harness.writeConfig({ wordpress: { url: write.url }, limits: { pageSize: 10 } });
    const page3 = holdUsersPage(harness.graph, 3);
    releases.push(page3.release);
    const cli = harness.start(['run', '-c', harness.configPath, '--out', join(harness.directory, 'killed')]);
    await Promise.race([Promise.all([write.arrived, page3.arrived]), cli.result]);
    page3.release();
    cli.child.kill('SIGKILL');
    expect((await cli.result).signal).toBe('SIGKILL');
    // Page 1's create still lands after the kill; nothing was checkpointed.
    write.release();
    await proxy!.settled();
    harness.graph.faults.hold = undefined;
    expect(await linkedUsers(harness)).toHaveLength(10);

    harness.graph.requests.length = 0;
    const rerun = await harness.runJobs();
    expect(rerun.code, rerun.stderr).toBe(0);
    // From the first page again: pages 2 and 3 were read, never written.
    expect(usersPageRequests(harness.graph)[0]?.query.$skiptoken).toBeUndefined();
    expect(created(rerun.rows)).toHaveLength(40);
    expect(rerun.rows.filter((row) => row.action === 'failed')).toEqual([]);
    const users = await linkedUsers(harness);
    expect(users).toHaveLength(50);
    expect(new Set(users.map((user) => user.meta.entra_wp_sync_object_id)).size).toBe(50);
  });

  it('an initial sync that grows the site past the in-memory index limit goes on with per-page lookups', async () => {
    harness = await startSyncHarness(generateUsers(60, 714));
    await harness.writeConfig({ limits: { pageSize: 10 } });
    const env = { ...harness.env, ENTRA_WP_SYNC_FULL_INDEX_LIMIT: '25' };
    const first = await harness.runJobs([], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('staff: over 25 WordPress users; each page now looks up its own');
    expect(created(first.rows)).toHaveLength(60);
    const again = await harness.runJobs([], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.rows.filter((row) => row.action !== 'unchanged')).toEqual([]);
    expect(await linkedUsers(harness)).toHaveLength(60);
  });
});
