// With the companion plugin, users are written in /batch/v1 requests; one bad item fails
// alone and the rest of its batch lands.
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await harness?.stop();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

describe('batched writes', () => {
  it('creates users in batches of up to 25 and reports a rejected item without losing the others', async () => {
    const people = generateUsers(60, 111);
    // A locale the site does not have: only WordPress knows, so the item fails in the batch.
    people[7] = { ...people[7]!, preferredLanguage: 'tlh_KLINGON' };
    harness = await startSyncHarness(people);
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
    const posts = (route: string) =>
      proxy!.count((request) => request.method === 'POST' && request.route === route);
    expect(posts('/wp/v2/users')).toBe(0);
    const batches = posts('/batch/v1');
    expect(batches).toBeGreaterThanOrEqual(3);
    expect(batches).toBeLessThanOrEqual(6);
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
});
