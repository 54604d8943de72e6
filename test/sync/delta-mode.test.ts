import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness, type WordPressRestUser } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const run = (extra: string[] = []) => harness!.runJobs(extra);
const deltaJob = (more: Record<string, unknown> = {}) => ({
  source: { users: {}, delta: true },
  actions: { delete: 'soft' },
  ...more,
});
const byObjectId = (users: WordPressRestUser[], id: string) =>
  users.find((user) => user.meta.entra_wp_sync_object_id === id);
const idsOf = (rows: Array<Record<string, unknown>>, action: string) =>
  rows
    .filter((row) => row.action === action)
    .map((row) => row.objectId)
    .sort();
const savedCheckpoint = async () =>
  JSON.parse(await readFile(join(harness!.directory, 'state', 'staff.checkpoint.json'), 'utf8')) as Record<
    string,
    unknown
  >;
/** Graph requests since the last reset, without the token endpoint. */
const graphReads = () =>
  harness!.graph.requests
    .filter((request) => request.path.startsWith('/v1.0/'))
    .map((request) => `${request.path}${'$deltatoken' in request.query ? ' (changes)' : ''}`);

describe('delta mode', () => {
  it('reads everyone once, then only the changes: updates, arrivals, leavers and disabled accounts', async () => {
    const people = generateUsers(450, 71);
    harness = await startSyncHarness(people);
    await harness.writeConfig(deltaJob());
    const first = await run();
    expect(first.code).toBe(0);
    expect(idsOf(first.rows, 'created')).toHaveLength(450);
    expect(await savedCheckpoint()).toMatchObject({ deltaLink: expect.stringContaining('$deltatoken=') });

    const tenant = harness.graph.tenant;
    const [renamed, moved, leaver, disabled, purged] = people;
    tenant.updateUser(renamed!.id, { displayName: 'Renamed Person' });
    tenant.updateUser(moved!.id, { mail: 'moved.person@contoso.com' });
    tenant.removeUser(leaver!.id);
    tenant.updateUser(disabled!.id, { accountEnabled: false });
    tenant.removeUser(purged!.id, true);
    const [newcomer] = generateUsers(1, 72);
    tenant.addUser(newcomer!);
    harness.graph.requests.length = 0;

    const second = await run();
    expect(second.code).toBe(0);
    // One page of changes; no /users listing.
    expect(graphReads()).toEqual(['/v1.0/users/delta (changes)']);
    expect(idsOf(second.rows, 'updated')).toEqual([renamed!.id, moved!.id].sort());
    expect(idsOf(second.rows, 'created')).toEqual([newcomer!.id]);
    expect(idsOf(second.rows, 'disabled')).toEqual([leaver!.id, disabled!.id, purged!.id].sort());
    expect(second.rows.filter((row) => row.action === 'unchanged')).toHaveLength(0);
    expect(second.summary).toContain('Delta round complete: 6 changed users');
    const users = await harness.wordpressUsers();
    // 450 people, the newcomer, and the site's own admin and editor.
    expect(users).toHaveLength(453);
    expect(byObjectId(users, renamed!.id)?.name).toBe('Renamed Person');
    expect(byObjectId(users, moved!.id)?.email).toBe('moved.person@contoso.com');
    expect(byObjectId(users, leaver!.id)).toMatchObject({
      roles: [],
      meta: { entra_wp_sync_status: 'disabled' },
    });

    // Nothing changed: nothing read beyond one page, nothing written.
    const quiet = await run();
    expect(quiet.rows).toHaveLength(0);

    // Back in Entra: restored with the mapped role.
    tenant.restoreUser(leaver!.id);
    const back = await run();
    expect(idsOf(back.rows, 'restored')).toEqual([leaver!.id]);
  });

  it('falls back to a full cycle when Graph no longer knows the delta link (400 and 410)', async () => {
    const people = generateUsers(30, 73);
    harness = await startSyncHarness(people);
    await harness.writeConfig(deltaJob());
    await run();
    for (const status of [400, 410] as const) {
      harness.graph.tenant.updateUser(people[status === 400 ? 0 : 1]!.id, { displayName: `Name ${status}` });
      harness.graph.expireDeltaLinks(status);
      harness.graph.requests.length = 0;
      const result = await run();
      expect(result.code).toBe(0);
      expect(result.stderr + result.stdout).toContain('a full cycle runs instead');
      // The full cycle starts a new initial round and sees everyone.
      expect(graphReads().filter((path) => !path.endsWith('(changes)'))).not.toHaveLength(0);
      expect(result.rows.filter((row) => row.action === 'unchanged')).toHaveLength(29);
      expect(idsOf(result.rows, 'updated')).toEqual([people[status === 400 ? 0 : 1]!.id]);
      expect(result.summary).toContain('Cycle complete');
    }
    harness.graph.tenant.updateUser(people[2]!.id, { displayName: 'After the fallback' });
    const after = await run();
    expect(after.summary).toContain('Delta round complete: 1 changed users');
  });

  it('holds leavers over safety.maxDeletes and removes them once approved, though nothing changed since', async () => {
    const people = generateUsers(40, 74);
    harness = await startSyncHarness(people);
    await harness.writeConfig(deltaJob({ safety: { maxDeletes: 2 } }));
    await run();
    for (const person of people.slice(0, 3)) harness.graph.tenant.removeUser(person.id);
    const held = await run();
    expect(held.code).toBe(4);
    expect(held.rows.filter((row) => row.action === 'held')).toHaveLength(3);
    expect((await harness.wordpressUsers()).filter((user) => user.roles.length === 0)).toHaveLength(0);

    const approved = await run(['--allow-deletes']);
    expect(approved.code).toBe(0);
    expect(idsOf(approved.rows, 'disabled')).toEqual(
      people
        .slice(0, 3)
        .map((person) => person.id)
        .sort(),
    );
  });

  it('keeps role rules right when only group membership changes', async () => {
    const people = generateUsers(12, 75);
    harness = await startSyncHarness(people);
    harness.graph.tenant.addGroup({ id: 'g-editors', displayName: 'Editors', members: [people[0]!.id] });
    await harness.writeConfig(deltaJob({ roles: { rules: [{ group: 'Editors', role: 'editor' }] } }));
    await run();
    expect(byObjectId(await harness.wordpressUsers(), people[0]!.id)?.roles).toEqual(['editor']);

    // Membership is not a user property: user delta reports nothing for these two.
    harness.graph.tenant.setGroupMembers('g-editors', [people[1]!.id]);
    const moved = await run();
    expect(idsOf(moved.rows, 'updated')).toEqual([people[0]!.id, people[1]!.id].sort());
    const users = await harness.wordpressUsers();
    expect(byObjectId(users, people[0]!.id)?.roles).toEqual(['subscriber']);
    expect(byObjectId(users, people[1]!.id)?.roles).toEqual(['editor']);
  });

  it('reads a user that failed again next round, so fixing WordPress is enough', async () => {
    const people = generateUsers(5, 76);
    harness = await startSyncHarness(people);
    await harness.writeConfig(deltaJob());
    await run();
    const [late] = generateUsers(1, 77);
    // Someone else's account already holds the newcomer's email.
    await runPhpOnSite(`
      $id = wp_insert_user(['user_login' => 'squatter', 'user_email' => '${late!.mail}', 'user_pass' => wp_generate_password()]);
      update_user_meta($id, 'entra_wp_sync_object_id', 'eeeeeeee-0000-4000-8000-00000000eeee');
      echo 'ok';
    `);
    harness.graph.tenant.addUser(late!);
    const failed = await run();
    expect(failed.code).toBe(3);
    expect(idsOf(failed.rows, 'failed')).toEqual([late!.id]);

    await runPhpOnSite(`require_once ABSPATH . 'wp-admin/includes/user.php';
      wp_delete_user(get_user_by('login', 'squatter')->ID); echo 'ok';`);
    const retried = await run();
    expect(retried.code).toBe(0);
    expect(idsOf(retried.rows, 'created')).toEqual([late!.id]);
  });

  it('refuses a filtered source in delta mode, saying what to do', async () => {
    harness = await startSyncHarness(generateUsers(1, 78));
    await harness.writeConfig({ source: { users: { filter: "department eq 'Sales'" }, delta: true } });
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Graph user delta can only filter by id; remove source.users.filter');
  });
});
