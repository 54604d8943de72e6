// WordPress has no unique index on login or email: a create whose answer is lost must
// be looked up, never sent blindly again.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { createsUsers, startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await harness?.stop();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

/** Forwards to WordPress, but cuts the connection after WordPress has handled the first create. */
async function lossyProxy(target: string): Promise<WordPressProxy> {
  let creates = 0;
  proxy = await startWordPressProxy(target, {
    // Creates travel alone or inside a /batch/v1 request.
    after: (request) => (createsUsers(request) && ++creates === 1 ? 'reset' : 'relay'),
  });
  return proxy;
}

describe('a create whose answer is lost', () => {
  it('is found in WordPress and linked instead of being created a second time', async () => {
    harness = await startSyncHarness(generateUsers(1, 31));
    const lossy = await lossyProxy(harness.site.url);
    await harness.writeConfig({ wordpress: { url: lossy.url } });
    const out = join(harness.directory, 'out');
    const result = await harness.run(['run', '-c', harness.configPath, '--out', out]);
    expect(result.code).toBe(0);
    const rows = await harness.readResults(out);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: 'created',
      message: 'found after an interrupted create and linked',
    });
    const synced = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(synced).toHaveLength(1);
  });
});
