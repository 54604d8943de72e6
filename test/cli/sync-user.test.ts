import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('sync-user', () => {
  it('syncs one user now, by UPN or object ID, only if the job covers them, leaving the cycle alone', async () => {
    const people = generateUsers(6, 91);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ source: { users: { filter: "department eq 'Engineering'" } } });
    const engineer = people.find((person) => person.department === 'Engineering')!;
    const other = people.find((person) => person.department !== 'Engineering')!;

    const byUpn = await harness.run(['sync-user', engineer.userPrincipalName, '-c', harness.configPath]);
    expect(byUpn.code).toBe(0);
    expect(byUpn.stdout).toContain('staff: 1 created');
    const outside = await harness.run(['sync-user', other.id, '-c', harness.configPath]);
    expect(outside.stdout).toContain('staff: nothing to do');
    const synced = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(synced.map((user) => user.meta.entra_wp_sync_object_id)).toEqual([engineer.id]);
    expect((await harness.run(['state', 'show', '-c', harness.configPath])).stdout).toContain(
      'no checkpoint',
    );

    const unknown = await harness.run(['sync-user', 'nobody@contoso.com', '-c', harness.configPath]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout + unknown.stderr).toContain('No Entra user "nobody@contoso.com"');
  });
});
