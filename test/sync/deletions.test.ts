import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { usersPageRequests } from '../support/graph-hooks.ts';
import { type SyncHarness, startSyncHarness, type WordPressRestUser } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const run = (extra: string[] = []) => harness!.runJobs(extra);

const byObjectId = (users: WordPressRestUser[], id: string) =>
  users.find((user) => user.meta.entra_wp_sync_object_id === id);
const actions = (rows: Array<Record<string, unknown>>, action: string) =>
  rows.filter((row) => row.action === action).map((row) => row.objectId);
const disabledOnSite = (users: WordPressRestUser[]) =>
  users
    .filter((user) => user.meta.entra_wp_sync_status === 'disabled')
    .map((user) => user.meta.entra_wp_sync_object_id);

describe('removing users no longer in Entra', () => {
  it('disables them, keeps their roles to restore, and never touches admins, protected users or itself', async () => {
    const people = generateUsers(20, 41);
    harness = await startSyncHarness(people);
    const [leaver, admin, guarded] = [people[0]!, people[1]!, people[2]!];
    await harness.writeConfig({ actions: { delete: 'soft' }, protect: [String(guarded.mail)] });
    expect((await run()).code).toBe(0);
    // An administrator and the tool's own account that this job also manages.
    await runPhpOnSite(`
      $admin = get_user_by('email', '${admin.mail}'); $admin->set_role('administrator');
      $self = get_user_by('login', 'admin'); update_user_meta($self->ID, 'entra_wp_sync_jobs', ['staff']);
      update_user_meta($self->ID, 'entra_wp_sync_object_id', 'ffffffff-0000-4000-8000-00000000ffff');
      echo 'ok';
    `);
    for (const person of [leaver, admin, guarded]) harness.graph.tenant.removeUser(person.id);
    const second = await run();
    expect(second.code).toBe(0);
    expect(actions(second.rows, 'disabled')).toEqual([leaver.id]);
    const users = await harness.wordpressUsers();
    expect(byObjectId(users, leaver.id)).toMatchObject({
      roles: [],
      meta: { entra_wp_sync_status: 'disabled', entra_wp_sync_restore_roles: ['subscriber'] },
    });
    expect(byObjectId(users, admin.id)?.roles).toEqual(['administrator']);
    expect(byObjectId(users, guarded.id)?.roles).toEqual(['subscriber']);
    expect(users.find((user) => user.username === 'admin')?.roles).toEqual(['administrator']);
    expect(second.summary).toContain('Removals: 1 of');
  });

  it('with deleteScope domains, also removes unmarked users of those domains but no others', async () => {
    harness = await startSyncHarness(generateUsers(3, 49));
    await harness.writeConfig({ actions: { delete: 'soft' }, deleteScope: { domains: ['contoso.com'] } });
    await runPhpOnSite(`
      wp_insert_user(['user_login' => 'old-intern', 'user_email' => 'old.intern@contoso.com', 'user_pass' => wp_generate_password()]);
      wp_insert_user(['user_login' => 'partner', 'user_email' => 'partner@fabrikam.com', 'user_pass' => wp_generate_password()]);
      echo 'ok';
    `);
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.rows.filter((row) => row.action === 'disabled').map((row) => row.wordpressLogin)).toEqual([
      'old-intern',
    ]);
    const users = await harness.wordpressUsers();
    expect(users.find((user) => user.username === 'partner')?.roles).toEqual(['subscriber']);
  });

  it('restores a disabled user who is back, with the roles the mapping gives', async () => {
    const people = generateUsers(5, 42);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ actions: { delete: 'soft' } });
    await run();
    harness.graph.tenant.removeUser(people[3]!.id);
    expect(actions((await run()).rows, 'disabled')).toEqual([people[3]!.id]);
    harness.graph.tenant.restoreUser(people[3]!.id);
    const back = await run();
    expect(actions(back.rows, 'restored')).toEqual([people[3]!.id]);
    expect(byObjectId(await harness.wordpressUsers(), people[3]!.id)).toMatchObject({
      roles: ['subscriber'],
      meta: { entra_wp_sync_status: 'active', entra_wp_sync_restore_roles: [] },
    });
    expect(actions((await run()).rows, 'unchanged')).toHaveLength(5);
  });

  it('deletes them with their posts given to reassignPostsTo', async () => {
    const people = generateUsers(4, 43);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ actions: { delete: 'hard', reassignPostsTo: harness.site.editorUser } });
    await run();
    const post = await runPhpOnSite(`
      $author = get_user_by('email', '${people[0]!.mail}');
      echo wp_insert_post(['post_title' => 'Kept', 'post_status' => 'publish', 'post_author' => $author->ID]);
    `);
    harness.graph.tenant.removeUser(people[0]!.id, true);
    const result = await run();
    expect(result.code).toBe(0);
    expect(actions(result.rows, 'deleted')).toEqual([people[0]!.id]);
    expect(byObjectId(await harness.wordpressUsers(), people[0]!.id)).toBeUndefined();
    const author = await runPhpOnSite(`echo get_userdata(get_post(${post})->post_author)->user_login;`);
    expect(author).toBe(harness.site.editorUser);
  });

  it('refuses to start, writing nothing, when reassignPostsTo is not a user', async () => {
    harness = await startSyncHarness(generateUsers(3, 44));
    await harness.writeConfig({ actions: { delete: 'hard', reassignPostsTo: 'nobody-here' } });
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('actions.reassignPostsTo "nobody-here" is not a user');
    expect((await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(
      0,
    );
  });

  it('holds back more removals than safety.maxDeletes allows until a person approves', async () => {
    const people = generateUsers(40, 45);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ actions: { delete: 'soft' } });
    await run();
    const leavers = people.slice(0, 12);
    for (const person of leavers) harness.graph.tenant.removeUser(person.id);

    const preview = await run(['--dry-run']);
    expect(preview.code).toBe(4);
    expect(actions(preview.rows, 'held')).toHaveLength(12);

    const held = await run();
    expect(held.code).toBe(4);
    expect(actions(held.rows, 'held').sort()).toEqual(leavers.map((person) => person.id).sort());
    expect(held.summary).toContain('### Held deletions');
    expect(held.summary).toContain(
      '12 users would be disabled, more than safety.maxDeletes allows (10 of 40 managed users)',
    );
    expect(held.summary).toContain(String(leavers[0]!.userPrincipalName).replace(/\./g, '.'));
    const untouched = await harness.wordpressUsers();
    expect(untouched.filter((user) => user.meta.entra_wp_sync_status === 'disabled')).toHaveLength(0);

    const approved = await run(['--allow-deletes']);
    expect(approved.code).toBe(0);
    expect(actions(approved.rows, 'disabled')).toHaveLength(12);
  });

  it('removes a user two jobs manage only when neither job sees it any more', async () => {
    const salesManager: FakeUser = {
      ...generateUsers(1, 46)[0]!,
      department: 'Sales',
      jobTitle: 'Manager',
    };
    harness = await startSyncHarness([salesManager, ...generateUsers(3, 47)]);
    await harness.writeConfig(
      {},
      {
        jobs: [
          {
            name: 'sales',
            source: { users: { filter: "department eq 'Sales'" } },
            actions: { delete: 'soft' },
          },
          {
            name: 'managers',
            source: { users: { filter: "jobTitle eq 'Manager'" } },
            actions: { delete: 'soft' },
          },
        ],
      },
    );
    await run();
    expect(byObjectId(await harness.wordpressUsers(), salesManager.id)?.meta.entra_wp_sync_jobs).toEqual([
      'managers',
      'sales',
    ]);
    harness.graph.tenant.updateUser(salesManager.id, { department: 'Finance' });
    const moved = await run();
    expect(actions(moved.rows, 'disabled')).toEqual([]);
    const stillManaged = byObjectId(await harness.wordpressUsers(), salesManager.id);
    expect(stillManaged).toMatchObject({ roles: ['subscriber'], meta: { entra_wp_sync_jobs: ['managers'] } });
    harness.graph.tenant.updateUser(salesManager.id, { jobTitle: 'Specialist' });
    const gone = await run();
    expect(actions(gone.rows, 'disabled')).toEqual([salesManager.id]);
  });

  it('removes nobody in a cycle a Graph read error cuts short, and the next complete cycle removes the leaver', async () => {
    const people = generateUsers(30, 48);
    harness = await startSyncHarness(people);
    // maxDeletes above the site, so a removal this cycle wrongly planned would be carried
    // out, not held; pages of 10 and an error on the last, so the cycle has seen 20 of 30
    // managed users, too many for the "read too few users" hold to step in.
    await harness.writeConfig({
      actions: { delete: 'soft' },
      limits: { pageSize: 10 },
      safety: { maxDeletes: 100 },
    });
    expect((await run()).code).toBe(0);
    const leaver = people[29]!;
    harness.graph.tenant.removeUser(leaver.id);
    // Pages 1 and 2 answer; page 3 (the last 9 users) gets a 403.
    harness.graph.faults.once({ path: /^\/v1\.0\/users$/, status: 403, skip: 2 });
    harness.graph.requests.length = 0;
    const failed = await run();
    expect(usersPageRequests(harness.graph).map((request) => request.status)).toEqual([200, 200, 403]);
    // Nobody the cycle did not see was removed: not the 9 users of page 3, not the leaver.
    expect(actions(failed.rows, 'disabled')).toEqual([]);
    expect(actions(failed.rows, 'unchanged')).toHaveLength(20);
    expect(disabledOnSite(await harness.wordpressUsers())).toEqual([]);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.summary).toContain(
      'No one was removed: the cycle could not read every user from Entra, and removals only follow a complete cycle.',
    );

    // Graph answers again: the cycle completes from page 3 and removes exactly the leaver.
    const next = await run();
    expect(next.code, next.stderr).toBe(0);
    expect(next.summary).toContain('Cycle complete');
    expect(actions(next.rows, 'disabled')).toEqual([leaver.id]);
    expect(disabledOnSite(await harness.wordpressUsers())).toEqual([leaver.id]);
  });
});
