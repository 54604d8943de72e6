// A subdirectory multisite network with two sites and one job per site: users are
// network users, and each job changes only its own site.
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness, type WordPressRestUser } from '../support/sync-harness.ts';
import type { WordPressNetwork } from '../support/wordpress/index.ts';
import { adminHeaders, type WordPressSite, wordpressStack } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;
let network: WordPressNetwork;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** A fresh network, the fake tenant, and the jobs "main" and "second", one per site. */
async function startNetwork(
  people: FakeUser[],
  jobs: { main?: Record<string, unknown>; second?: Record<string, unknown> } = {},
): Promise<SyncHarness> {
  network = await wordpressStack().resetNetwork();
  harness = await startSyncHarness(people, {}, network.main);
  await harness.writeConfig(
    {},
    {
      jobs: [
        { name: 'main', source: { users: {} }, ...jobs.main },
        { name: 'second', source: { users: {} }, wordpress: { url: network.second.url }, ...jobs.second },
      ],
    },
  );
  return harness;
}

const runJob = (name?: string) => harness!.runJobs(name ? ['--job', name] : []);

/** PHP on the network, with the site at `path` current; prints what the code echoes. */
const php = (code: string, path = '/') => wordpressStack().runNetworkPhp(path, code);

async function siteUsers(site: WordPressSite): Promise<WordPressRestUser[]> {
  const response = await fetch(`${site.restUrl}wp/v2/users?context=edit&per_page=100&orderby=id`, {
    headers: adminHeaders(site),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as WordPressRestUser[];
}

const byObjectId = (users: WordPressRestUser[], id: string) =>
  users.find((user) => user.meta.entra_wp_sync_object_id === id);

/** How many network accounts have this email (a second account would be a duplicate). */
const accountsWithEmail = async (email: string) =>
  Number(
    await php(
      `echo count( get_users( array( 'blog_id' => 0, 'search' => '${email}', 'search_columns' => array( 'user_email' ) ) ) );`,
    ),
  );

describe('the test bed network', () => {
  it('is a subdirectory network of two sites whose admin is a super admin with an application password', async () => {
    network = await wordpressStack().resetNetwork();
    expect(network.second.url).toBe(`${network.main.url}/second`);
    for (const site of [network.main, network.second]) {
      const info = await fetch(`${site.restUrl}entra-wp-sync/v1/info`, { headers: adminHeaders(site) });
      expect(info.status).toBe(200);
      expect(((await info.json()) as { network: unknown }).network).toMatchObject({
        blogId: site === network.main ? 1 : network.secondBlogId,
        mainSite: site === network.main,
        superAdmin: true,
      });
    }
    // A reset throws away what a test left.
    await php(`wpmu_create_user( 'leftover', 'pw-leftover-1', 'leftover@example.test' );`);
    network = await wordpressStack().resetNetwork();
    expect(await php(`echo username_exists( 'leftover' ) ? 'kept' : 'gone';`)).toBe('gone');
  });
});

describe('a job on one site of a multisite network', () => {
  it('creates users with logins the network accepts, and a second run writes nothing', async () => {
    const people = generateUsers(3, 71);
    await startNetwork(people);
    const first = await runJob('second');
    expect(first.code, JSON.stringify(first.rows)).toBe(0);
    const created = first.rows.filter((row) => row.action === 'created');
    expect(created).toHaveLength(3);
    const onSecond = await siteUsers(network.second);
    for (const person of people) {
      const user = byObjectId(onSecond, person.id);
      expect(user?.username).toMatch(/^[a-z0-9]{4,60}$/);
      expect(user?.roles).toEqual(['subscriber']);
      expect(created.find((row) => row.objectId === person.id)?.wordpressLogin).toBe(user?.username);
    }
    // Network users, members of the second site only.
    expect((await siteUsers(network.main)).map((user) => user.username)).toEqual(['admin']);

    const again = await runJob('second');
    expect(again.code, JSON.stringify(again.rows)).toBe(0);
    expect(again.rows.map((row) => row.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    for (const person of people) expect(await accountsWithEmail(String(person.mail))).toBe(1);
  });

  it("adds a person who already has a network account (an author on the main site) to the second site, keeping the main site's role", async () => {
    const people = generateUsers(2, 72);
    const author = people[0]!;
    await startNetwork(people);
    // Registered long before the job began managing: the proof an adoption by email needs.
    const authorId = Number(
      await php(`
        $id = wp_insert_user( array( 'user_login' => 'mainauthor', 'user_email' => '${author.mail}', 'user_pass' => wp_generate_password(), 'role' => 'author', 'user_registered' => '2020-01-01 00:00:00' ) );
        echo is_wp_error( $id ) ? $id->get_error_message() : $id;
      `),
    );
    expect(authorId).toBeGreaterThan(1);

    const result = await runJob('second');
    expect(result.code, JSON.stringify(result.rows)).toBe(0);
    const row = result.rows.find((candidate) => candidate.objectId === author.id);
    expect(row).toMatchObject({ action: 'adopted', wordpressId: authorId, wordpressLogin: 'mainauthor' });
    expect(byObjectId(await siteUsers(network.second), author.id)).toMatchObject({
      id: authorId,
      username: 'mainauthor',
      roles: ['subscriber'],
    });
    expect((await siteUsers(network.main)).find((user) => user.id === authorId)?.roles).toEqual(['author']);
    expect(await accountsWithEmail(String(author.mail))).toBe(1);

    const again = await runJob('second');
    expect(again.rows.map((candidate) => candidate.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('holds a network account it has no proof of, writing nothing', async () => {
    const people = generateUsers(2, 73);
    await startNetwork(people);
    expect((await runJob()).code).toBe(0);
    // Someone takes a joiner's email after the jobs began managing: no proof it is theirs.
    const joiner: FakeUser = { ...generateUsers(1, 74)[0]!, id: 'aaaaaaaa-0000-4000-8000-00000000aaaa' };
    const squatter = await php(`
      echo wp_insert_user( array( 'user_login' => 'squatter', 'user_email' => '${joiner.mail}', 'user_pass' => wp_generate_password(), 'role' => 'author' ) );
    `);
    harness!.graph.tenant.addUser(joiner);
    const result = await runJob('second');
    expect(result.code, JSON.stringify(result.rows)).toBe(4);
    expect(result.rows.find((row) => row.objectId === joiner.id)).toMatchObject({ action: 'held' });
    expect((await siteUsers(network.second)).some((user) => user.id === Number(squatter))).toBe(false);
  });

  it("refuses, before writing anything, to sign in as a site's administrator who is not a super admin", async () => {
    const people = generateUsers(2, 78);
    await startNetwork(people);
    const password = await php(
      `
        $id = wpmu_create_user( 'siteadmin', wp_generate_password(), 'siteadmin@example.test' );
        add_user_to_blog( get_current_blog_id(), $id, 'administrator' );
        echo WP_Application_Passwords::create_new_application_password( $id, array( 'name' => 'sync' ) )[0];
      `,
      '/second/',
    );
    // The second job signs in as that administrator.
    await harness!.writeConfig(
      {},
      {
        jobs: [
          {
            name: 'second',
            source: { users: {} },
            wordpress: { url: network.second.url, username: 'siteadmin' },
          },
        ],
      },
    );
    const result = await harness!.runJobs(['--job', 'second'], { WORDPRESS_APP_PASSWORD: password.trim() });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('siteadmin is not a super admin');
    expect((await siteUsers(network.second)).map((user) => user.username)).toEqual(['admin', 'siteadmin']);
  });

  it('never changes a super admin: the row says so, and the plugin refuses too', async () => {
    const people = generateUsers(2, 75);
    const boss = people[1]!;
    await startNetwork(people);
    const bossId = Number(
      await php(`
        $id = wp_insert_user( array( 'user_login' => 'networkboss', 'user_email' => '${boss.mail}', 'user_pass' => wp_generate_password(), 'user_registered' => '2020-01-01 00:00:00' ) );
        grant_super_admin( $id );
        echo $id;
      `),
    );
    const result = await runJob('second');
    expect(result.code, JSON.stringify(result.rows)).toBe(0);
    const row = result.rows.find((candidate) => candidate.objectId === boss.id);
    expect(row).toMatchObject({ action: 'skipped', wordpressId: bossId });
    expect(String(row?.message)).toContain('super admin');
    expect(
      await php(`echo is_user_member_of_blog( ${bossId}, ${network.secondBlogId} ) ? 'member' : 'not';`),
    ).toBe('not');
    const refused = await fetch(`${network.second.restUrl}entra-wp-sync/v1/members`, {
      method: 'POST',
      headers: adminHeaders(network.second),
      body: JSON.stringify({ id: bossId, role: 'subscriber' }),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('entra_wp_sync_super_admin');
    // Nor may the sync's markers be written to a super admin over the users route.
    const marked = await fetch(`${network.main.restUrl}wp/v2/users/${bossId}`, {
      method: 'POST',
      headers: adminHeaders(network.main),
      body: JSON.stringify({ meta: { entra_wp_sync_object_id: boss.id } }),
    });
    expect(marked.status).toBe(403);
    expect(
      await php(`echo get_user_meta( ${bossId}, 'entra_wp_sync_object_id', true ) ? 'marked' : 'unmarked';`),
    ).toBe('unmarked');
  });
});

describe('removals on a network', () => {
  it("soft: takes the person's roles on this site only; they keep their way in while active elsewhere, and come back", async () => {
    const people = generateUsers(4, 76);
    const leaver = people[0]!;
    await startNetwork(people, {
      main: { actions: { delete: 'soft' } },
      second: { actions: { delete: 'soft' } },
    });
    const both = await runJob();
    expect(both.code, JSON.stringify(both.rows)).toBe(0);
    const id = byObjectId(await siteUsers(network.second), leaver.id)!.id;
    const login = byObjectId(await siteUsers(network.second), leaver.id)!.username;
    await php(`
      wp_set_password( 'leaver-password-1', ${id} );
      WP_Application_Passwords::create_new_application_password( ${id}, array( 'name' => 'laptop' ) );
    `);
    const signIn = () =>
      php(`
        $user = wp_authenticate( '${login}', 'leaver-password-1' );
        echo is_wp_error( $user ) ? $user->get_error_code() : 'in';
        echo ' ', count( WP_Application_Passwords::get_user_application_passwords( ${id} ) );
      `);
    harness!.graph.tenant.removeUser(leaver.id);

    const second = await runJob('second');
    expect(second.code, JSON.stringify(second.rows)).toBe(0);
    expect(second.rows.filter((row) => row.action === 'disabled').map((row) => row.objectId)).toEqual([
      leaver.id,
    ]);
    expect(byObjectId(await siteUsers(network.second), leaver.id)).toMatchObject({
      roles: [],
      meta: { entra_wp_sync_status: 'disabled', entra_wp_sync_restore_roles: ['subscriber'] },
    });
    expect(byObjectId(await siteUsers(network.main), leaver.id)).toMatchObject({
      roles: ['subscriber'],
      meta: { entra_wp_sync_status: 'active' },
    });
    // Still a subscriber of the main site: the password and the app password still work.
    expect(await signIn()).toBe('in 1');

    const main = await runJob('main');
    expect(main.rows.filter((row) => row.action === 'disabled').map((row) => row.objectId)).toEqual([
      leaver.id,
    ]);
    // No role left anywhere, disabled by both jobs: kept out, credentials revoked.
    expect(await signIn()).toBe('entra_wp_sync_disabled 0');
    expect(await php(`echo get_userdata( ${id} ) ? 'account kept' : 'gone';`)).toBe('account kept');

    harness!.graph.tenant.restoreUser(leaver.id);
    const back = await runJob('second');
    expect(back.rows.filter((row) => row.action === 'restored').map((row) => row.objectId)).toEqual([
      leaver.id,
    ]);
    expect(byObjectId(await siteUsers(network.second), leaver.id)?.roles).toEqual(['subscriber']);
    expect(await signIn()).toBe('in 0');
  });

  it('hard: removes the person from this site with their content reassigned, never deleting the network account', async () => {
    const people = generateUsers(4, 77);
    const leaver = people[0]!;
    await startNetwork(people, { second: { actions: { delete: 'hard', reassignPostsTo: 'admin' } } });
    const setup = await runJob();
    expect(setup.code, JSON.stringify(setup.rows)).toBe(0);
    const id = byObjectId(await siteUsers(network.second), leaver.id)!.id;
    const post = await php(
      `echo wp_insert_post( array( 'post_title' => 'Kept', 'post_status' => 'publish', 'post_author' => ${id} ) );`,
      '/second/',
    );
    harness!.graph.tenant.removeUser(leaver.id, true);

    const result = await runJob('second');
    expect(result.code, JSON.stringify(result.rows)).toBe(0);
    expect(result.rows.filter((row) => row.action === 'deleted').map((row) => row.objectId)).toEqual([
      leaver.id,
    ]);
    expect(byObjectId(await siteUsers(network.second), leaver.id)).toBeUndefined();
    expect(byObjectId(await siteUsers(network.main), leaver.id)?.roles).toEqual(['subscriber']);
    expect(
      await php(`
        switch_to_blog( ${network.secondBlogId} );
        echo get_userdata( ${id} ) ? 'account kept' : 'gone', ' ', get_post( ${Number(post)} )->post_author;
      `),
    ).toBe('account kept 1');
  });
});
