// With the companion plugin, users are written in /batch/v1 requests; one bad item fails
// alone and the rest of its batch lands.
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { type ProxiedRequest, startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import { adminHeaders, type WordPressSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await harness?.stop();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

/** The most requests the site takes in one /batch/v1 call, as its OPTIONS answer says. */
async function batchLimitOf(site: WordPressSite): Promise<number | undefined> {
  const response = await fetch(`${site.restUrl}batch/v1`, { method: 'OPTIONS', headers: adminHeaders(site) });
  const described = (await response.json()) as {
    endpoints?: Array<{ args?: { requests?: { maxItems?: number } } }>;
  };
  return described.endpoints?.[0]?.args?.requests?.maxItems;
}

/** The user requests one /batch/v1 request carries. */
const batchItems = (request: ProxiedRequest) =>
  (JSON.parse(request.body) as { requests: Array<{ method: string; path: string }> }).requests;

describe('batched writes', () => {
  it('creates users in batches of up to 25 and reports a rejected item without losing the others', async () => {
    const people = generateUsers(60, 111);
    // A locale the site does not have: only WordPress knows, so the item fails in the batch.
    people[7] = { ...people[7]!, preferredLanguage: 'tlh_KLINGON' };
    harness = await startSyncHarness(people);
    // 25 is WordPress's own limit of requests in one /batch/v1 call, as the site describes it.
    expect(await batchLimitOf(harness.site)).toBe(25);
    proxy = await startWordPressProxy(harness.site.url);
    await harness.writeConfig({
      wordpress: { url: proxy.url },
      limits: { pageSize: 999 },
      map: { locale: 'preferredLanguage' },
    });
    const result = await harness.runJobs();
    expect(result.code).toBe(3);
    expect(result.rows.filter((row) => row.action === 'created')).toHaveLength(59);
    const failed = result.rows.filter((row) => row.action === 'failed');
    expect(failed.map((row) => row.objectId)).toEqual([people[7]!.id]);
    expect(String(failed[0]!.message)).toContain('rest_invalid_param');
    expect(proxy.count((request) => request.method === 'POST' && request.route === '/wp/v2/users')).toBe(0);

    // Every create went in a batch the site accepted; none held more than 25, every one
    // held more than one user, and with 60 waiting a batch filled up to the limit.
    const batches = proxy.requests.filter(
      (request) => request.method === 'POST' && request.route === '/batch/v1',
    );
    const sizes = batches.map((request) => batchItems(request).length);
    expect(batches.map((request) => request.upstreamStatus)).toEqual(batches.map(() => 207));
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(60);
    expect(Math.max(...sizes)).toBe(25);
    expect(
      sizes.every((size) => size > 1 && size <= 25),
      `batch sizes ${sizes.join(', ')}`,
    ).toBe(true);
    expect(
      batches
        .flatMap(batchItems)
        .every((item) => item.method === 'POST' && item.path.startsWith('/wp/v2/users?')),
    ).toBe(true);
    expect((await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(
      59,
    );
  });

  it('writes one user per request, with a warning, where /batch/v1 is blocked', async () => {
    const people = generateUsers(30, 112);
    harness = await startSyncHarness(people);
    // What a security plugin that blocks the batch route answers.
    proxy = await startWordPressProxy(harness.site.url, {
      before: (request) =>
        request.route === '/batch/v1'
          ? { status: 403, body: { code: 'rest_forbidden', message: 'Batch requests are disabled.' } }
          : undefined,
    });
    await harness.writeConfig({ wordpress: { url: proxy.url }, limits: { pageSize: 999 } });
    const result = await harness.runJobs();

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /did not describe \/batch\/v1 \(WordPress refused OPTIONS .*Batch requests are disabled\.\); writing one user per request/,
    );
    expect(result.rows.filter((row) => row.action === 'created')).toHaveLength(30);
    expect(proxy.count((request) => request.method === 'POST' && request.route === '/batch/v1')).toBe(0);
    expect(proxy.count((request) => request.method === 'POST' && request.route === '/wp/v2/users')).toBe(30);
  });

  it('batches whatever the shell running the tests sets; only a run given ENTRA_WP_SYNC_BATCH=off writes one user per request', async () => {
    harness = await startSyncHarness(generateUsers(6, 113));
    proxy = await startWordPressProxy(harness.site.url);
    await harness.writeConfig({ wordpress: { url: proxy.url } });
    const posts = (route: string) =>
      proxy!.count((request) => request.method === 'POST' && request.route === route);
    // A developer's shell that turns batches off does not reach the harness's runs.
    const shell = process.env.ENTRA_WP_SYNC_BATCH;
    process.env.ENTRA_WP_SYNC_BATCH = 'off';
    try {
      const result = await harness.runJobs();
      expect(result.code, result.stderr).toBe(0);
    } finally {
      if (shell === undefined) delete process.env.ENTRA_WP_SYNC_BATCH;
      else process.env.ENTRA_WP_SYNC_BATCH = shell;
    }
    expect(posts('/batch/v1')).toBeGreaterThan(0);
    expect(posts('/wp/v2/users')).toBe(0);

    // A test that wants the switch passes it to the run.
    for (const person of generateUsers(3, 114)) harness.graph.tenant.addUser(person);
    const single = await harness.runJobs([], { ENTRA_WP_SYNC_BATCH: 'off' });
    expect(single.code, single.stderr).toBe(0);
    expect(single.rows.filter((row) => row.action === 'created')).toHaveLength(3);
    expect(posts('/wp/v2/users')).toBe(3);
  });
});
