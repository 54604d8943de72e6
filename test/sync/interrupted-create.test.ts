// WordPress has no unique index on login or email: a create whose answer is lost must
// be looked up, never sent blindly again.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;
let proxy: Server | undefined;

afterEach(async () => {
  await harness?.stop();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  harness = undefined;
  proxy = undefined;
});

/** Forwards to WordPress, but cuts the connection after WordPress has handled the first create. */
async function lossyProxy(target: string): Promise<{ url: string; creates: () => number }> {
  const upstream = new URL(target);
  let creates = 0;
  proxy = createServer((incoming, outgoing) => {
    // Creates travel alone or inside a /batch/v1 request.
    const isCreate =
      incoming.method === 'POST' && /\/wp-json\/(wp\/v2\/users\?|batch\/v1)/.test(incoming.url ?? '');
    if (isCreate) creates++;
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        if (isCreate && creates === 1) {
          answer.resume();
          answer.on('end', () => outgoing.socket?.destroy());
          return;
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, creates: () => creates };
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
