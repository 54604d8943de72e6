// With the companion plugin, users are written in /batch/v1 requests; one bad item fails
// alone and the rest of its batch lands.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

async function countingProxy(target: string, seen: string[]): Promise<string> {
  const upstream = new URL(target);
  proxy = createServer((incoming, outgoing) => {
    seen.push(`${incoming.method} ${(incoming.url ?? '').split('?')[0]}`);
    incoming.pipe(
      httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      ),
    );
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

describe('batched writes', () => {
  it('creates users in batches of up to 25 and reports a rejected item without losing the others', async () => {
    const people = generateUsers(60, 111);
    people[7] = { ...people[7]!, mail: 'broken@contoso..com' };
    harness = await startSyncHarness(people);
    const requests: string[] = [];
    const url = await countingProxy(harness.site.url, requests);
    await harness.writeConfig({ wordpress: { url }, limits: { pageSize: 999 } });
    const result = await harness.runJobs();
    expect(result.code).toBe(3);
    expect(result.rows.filter((row) => row.action === 'created')).toHaveLength(59);
    const failed = result.rows.filter((row) => row.action === 'failed');
    expect(failed.map((row) => row.objectId)).toEqual([people[7]!.id]);
    expect(String(failed[0]!.message)).toContain('rest_invalid_param');
    expect(requests.filter((request) => request === 'POST /wp-json/wp/v2/users')).toHaveLength(0);
    const batches = requests.filter((request) => request === 'POST /wp-json/batch/v1').length;
    expect(batches).toBeGreaterThanOrEqual(3);
    expect(batches).toBeLessThanOrEqual(6);
    expect((await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(
      59,
    );
  });
});
