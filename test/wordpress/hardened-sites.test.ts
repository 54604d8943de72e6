// Sites carry common hardening (security plugins, snippets against user enumeration, plain
// permalinks). On each, the sync either works, falling back where it can, or `check` and the
// run stop before writing anything, with a message naming the setting to change. The
// hardening is the test bed's mu-plugin (testbed-hardening.php), switched on per site.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.ts';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness, type WordPressRestUser } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import {
  adminHeaders,
  runPhpOnSite,
  useWordPressSite,
  wordpressStack,
  workerSiteIndex,
} from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await harness?.stop();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

type Hardening =
  | 'no-application-passwords'
  | 'no-application-passwords-for-users'
  | 'users-routes-for-list-users-only'
  | 'users-routes-refused-to-anonymous'
  | 'no-users-routes'
  | 'no-users-listing'
  | 'no-batch-route'
  | 'batch-forbidden'
  | 'batch-post-forbidden'
  | 'no-xmlrpc';

async function harden(...switches: Hardening[]): Promise<void> {
  const list = switches.map((name) => `'${name}'`).join(', ');
  expect(await runPhpOnSite(`update_option('entra_testbed_hardening', array(${list})); echo 'ok';`)).toBe(
    'ok',
  );
}

async function hardenedSite(people: FakeUser[], ...switches: Hardening[]): Promise<SyncHarness> {
  harness = await startSyncHarness(people);
  await harden(...switches);
  await harness.writeConfig();
  return harness;
}

const check = () => harness!.run(['check', '-c', harness!.configPath]);

function lineOf(stdout: string, name: string): string {
  const lines = stdout.split('\n');
  const index = lines.findIndex((line) => line.includes(name));
  // A failed line's hint follows it.
  return index < 0 ? `(no line for ${name})` : `${lines[index]} ${lines[index + 1] ?? ''}`;
}

const userCount = async () =>
  Number(await wordpressStack().runSql(workerSiteIndex(), 'SELECT COUNT(*) FROM wp_users'));

/** The site's users as the sync leaves them, read in the database (REST may be hardened). */
async function siteUsers(): Promise<Array<{ login: string; email: string; name: string; roles: string }>> {
  const rows = await wordpressStack().runSql(
    workerSiteIndex(),
    `SELECT u.user_login, u.user_email, u.display_name, m.meta_value FROM wp_users u
     LEFT JOIN wp_usermeta m ON m.user_id = u.ID AND m.meta_key = 'wp_capabilities' ORDER BY u.user_login`,
  );
  return rows
    .split('\n')
    .filter(Boolean)
    .map((row) => {
      const [login, email, name, roles] = row.split('\t');
      return { login: login!, email: email!, name: name!, roles: roles ?? '' };
    });
}

describe('a site with application passwords switched off', () => {
  it('for the whole site: check and the run say so and name the setting, not a wrong password, and write nothing', async () => {
    await hardenedSite(generateUsers(3, 301), 'no-application-passwords');
    const before = await userCount();

    const checked = await check();
    expect(checked.code, checked.stdout).toBe(ExitCode.failed);
    const line = lineOf(checked.stdout, 'application password');
    expect(line).toMatch(/^FAIL .*Application passwords are switched off on http:\/\/127\.0\.0\.1:\d+/);
    expect(line).toContain('wp_is_application_passwords_available');
    expect(line).not.toContain('did not accept');

    const run = await harness!.runJobs();
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(
      /Application passwords are switched off on .*wp_is_application_passwords_available/s,
    );
    expect(await userCount()).toBe(before);
  });

  it('for every account: check and the run name the per-account switch beside a wrong password, and write nothing', async () => {
    await hardenedSite(generateUsers(3, 302), 'no-application-passwords-for-users');
    const before = await userCount();
    // WordPress answers this as it answers a wrong password (401 rest_not_logged_in), and
    // still lists application passwords in its index: the message gives both causes.
    const checked = await check();
    expect(checked.code, checked.stdout).toBe(ExitCode.failed);
    const line = lineOf(checked.stdout, 'application password');
    expect(line).toMatch(/^FAIL .*did not accept the application password for "admin"/);
    expect(line).toContain('wp_is_application_passwords_available_for_user');

    const run = await harness!.runJobs();
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('wp_is_application_passwords_available_for_user');
    expect(await userCount()).toBe(before);
  });
});

describe('a site that hides its users endpoints', () => {
  it.each([
    ['removed for callers who may not list users', 'users-routes-for-list-users-only', 404],
    ['refused to anonymous callers', 'users-routes-refused-to-anonymous', 401],
  ] as const)('%s: the administrator account syncs as usual', async (_name, hardening, anonymousStatus) => {
    const people = generateUsers(8, 303);
    await hardenedSite(people, hardening);
    // The hardening is on: an anonymous caller gets no users.
    const anonymous = await fetch(`${harness!.site.restUrl}wp/v2/users`);
    expect(anonymous.status).toBe(anonymousStatus);

    const checked = await check();
    expect(checked.code, checked.stdout).toBe(ExitCode.ok);
    expect(lineOf(checked.stdout, 'users endpoints')).toMatch(/^pass/);
    const run = await harness!.runJobs();
    expect(run.code, run.stderr).toBe(0);
    expect(run.rows.filter((row) => row.action === 'created')).toHaveLength(8);
    const again = await harness!.runJobs();
    expect(again.rows.map((row) => row.action)).toEqual(Array(8).fill('unchanged'));
  });

  it.each([
    ['removed for everyone', 'no-users-routes'],
    ['listing and user routes removed, /wp/v2/users/me kept', 'no-users-listing'],
  ] as const)(
    '%s: check and the run stop before writing, naming the users endpoints',
    async (_name, hardening) => {
      await hardenedSite(generateUsers(3, 304), hardening);
      const before = await userCount();

      const checked = await check();
      expect(checked.code, checked.stdout).toBe(ExitCode.failed);
      const line = lineOf(checked.stdout, 'users endpoints');
      expect(line).toMatch(/^FAIL .*has no users endpoints .*\/wp\/v2\/users/);
      expect(line).toContain('rest_endpoints');

      const run = await harness!.runJobs();
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/has no users endpoints/);
      expect(run.rows.filter((row) => row.action === 'created')).toHaveLength(0);
      expect(await userCount()).toBe(before);
    },
  );
});

describe('a site that blocks /batch/v1', () => {
  it.each([
    [
      'the route removed',
      'no-batch-route',
      /did not describe \/batch\/v1 \(the site's REST API has no \/batch\/v1 route .*\); writing one user per request/,
    ],
    [
      'refused with 403',
      'batch-forbidden',
      /did not describe \/batch\/v1 .*Batch requests are disabled.*writing one user per request/,
    ],
    [
      'refused with 403 to POST only (its OPTIONS answers)',
      'batch-post-forbidden',
      /refused a \/batch\/v1 request .*Batch requests are disabled.*writing one user per request from now on/,
    ],
  ] as const)(
    '%s: the sync writes one user per request, with a warning saying why, to the same result',
    async (_name, hardening, warning) => {
      const people = generateUsers(30, 305);
      // The same tenant on the site as it comes, for the result to compare with.
      harness = await startSyncHarness(people);
      await harness.writeConfig({ limits: { pageSize: 999 } });
      const plain = await harness.runJobs();
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stderr).not.toContain('/batch/v1');
      const expected = await siteUsers();

      // A fresh site and no checkpoint: the same first sync again.
      await useWordPressSite();
      await rm(join(harness.directory, 'state'), { recursive: true, force: true });
      await harden(hardening);
      proxy = await startWordPressProxy(harness.site.url);
      await harness.writeConfig({ wordpress: { url: proxy.url }, limits: { pageSize: 999 } });
      const hardened = await harness.runJobs();
      expect(hardened.code, hardened.stderr).toBe(0);
      expect(hardened.stderr).toMatch(warning);
      expect(hardened.stderr.match(/writing one user per request/g)).toHaveLength(1);
      expect(hardened.rows.filter((row) => row.action === 'created')).toHaveLength(30);
      expect(proxy.count((request) => request.method === 'POST' && request.route === '/wp/v2/users')).toBe(
        30,
      );
      expect(await siteUsers()).toEqual(expected);
    },
  );
});

describe('a site with XML-RPC switched off', () => {
  it('syncs as usual: the sync does not use XML-RPC', async () => {
    await hardenedSite(generateUsers(5, 306), 'no-xmlrpc');
    const xmlrpc = await fetch(`${harness!.site.url}/xmlrpc.php`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<?xml version="1.0"?><methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value>admin</value></param><param><value>admin-password-for-tests</value></param></params></methodCall>',
    });
    expect(await xmlrpc.text()).toContain('XML-RPC services are disabled');
    const run = await harness!.runJobs();
    expect(run.code, run.stderr).toBe(0);
    expect(run.rows.filter((row) => row.action === 'created')).toHaveLength(5);
  });
});

describe('a site with plain permalinks', () => {
  it('is found at /index.php?rest_route= and synced in batches: create, update, disable and delete with reassign', async () => {
    const people = generateUsers(40, 307);
    harness = await startSyncHarness(people);
    await runPhpOnSite(
      "global $wp_rewrite; $wp_rewrite->set_permalink_structure(''); flush_rewrite_rules(); echo 'ok';",
    );
    // WordPress now sends /wp-json/ to the home page; its REST API is at ?rest_route=.
    const pretty = await fetch(`${harness.site.url}/wp-json/wp/v2/users/me`, {
      headers: adminHeaders(harness.site),
      redirect: 'manual',
    });
    expect(pretty.status).toBe(301);
    proxy = await startWordPressProxy(harness.site.url);
    await harness.writeConfig({
      wordpress: { url: proxy.url },
      limits: { pageSize: 999 },
      actions: { delete: 'hard', reassignPostsTo: harness.site.editorUser },
    });

    const first = await harness.runJobs();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('one user per request');
    expect(first.rows.filter((row) => row.action === 'created')).toHaveLength(40);

    const [renamed, leaver] = [people[0]!, people[1]!];
    const post = await runPhpOnSite(`
      $author = get_user_by('email', '${leaver.mail}');
      echo wp_insert_post(['post_title' => 'Kept', 'post_status' => 'publish', 'post_author' => $author->ID]);
    `);
    harness.graph.tenant.updateUser(renamed.id, { displayName: 'Renamed Person' });
    harness.graph.tenant.removeUser(leaver.id, true);
    const second = await harness.runJobs();
    expect(second.code, second.stderr).toBe(0);
    expect(second.rows.filter((row) => row.action === 'updated').map((row) => row.objectId)).toEqual([
      renamed.id,
    ]);
    expect(second.rows.filter((row) => row.action === 'deleted').map((row) => row.objectId)).toEqual([
      leaver.id,
    ]);
    expect(await runPhpOnSite(`echo get_userdata(get_post(${post})->post_author)->user_login;`)).toBe(
      harness.site.editorUser,
    );

    // Soft removal on the same site: the next leaver is disabled, roles kept to restore.
    const disabled = people[2]!;
    await harness.writeConfig({
      wordpress: { url: proxy.url },
      limits: { pageSize: 999 },
      actions: { delete: 'soft' },
    });
    harness.graph.tenant.removeUser(disabled.id);
    const third = await harness.runJobs();
    expect(third.code, third.stderr).toBe(0);
    expect(third.rows.filter((row) => row.action === 'disabled').map((row) => row.objectId)).toEqual([
      disabled.id,
    ]);

    const users = await restUsers(harness.site.url);
    const byObjectId = (id: string) => users.find((user) => user.meta.entra_wp_sync_object_id === id);
    expect(byObjectId(renamed.id)?.name).toBe('Renamed Person');
    expect(byObjectId(leaver.id)).toBeUndefined();
    expect(byObjectId(disabled.id)).toMatchObject({ roles: [], meta: { entra_wp_sync_status: 'disabled' } });
    expect(users.filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(39);

    // After finding the REST API once per run, every request went to /index.php?rest_route=,
    // writes in batches (OPTIONS and DELETE included, which nginx refuses at /?rest_route=).
    const pastDiscovery = proxy.requests.filter(
      (request) => !request.url.startsWith('/wp-json/wp/v2/users/me'),
    );
    const strays = pastDiscovery.filter((request) => !request.url.startsWith('/index.php?rest_route=%2F'));
    expect(strays.map((request) => `${request.method} ${request.url}`)).toEqual([]);
    const batches = proxy.requests.filter((request) => request.route === '/batch/v1');
    expect(
      batches.filter((request) => request.method === 'OPTIONS').map((request) => request.upstreamStatus),
    ).toEqual([200, 200, 200]);
    const posts = batches.filter((request) => request.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((request) => request.upstreamStatus === 207)).toBe(true);
    const items = posts.flatMap(
      (request) =>
        (JSON.parse(request.body) as { requests: Array<{ method: string; path: string }> }).requests,
    );
    expect(items.some((item) => item.method === 'DELETE')).toBe(true);
    // Batch items name REST routes, whichever way the site routes the REST API.
    expect(items.every((item) => item.path.startsWith('/wp/v2/users'))).toBe(true);
    expect(proxy.count((request) => request.method === 'POST' && request.route === '/wp/v2/users')).toBe(0);
  });
});

/** Every user with context=edit, through the plain-permalinks REST route. */
async function restUsers(siteUrl: string): Promise<WordPressRestUser[]> {
  const response = await fetch(
    `${siteUrl}/index.php?rest_route=/wp/v2/users&context=edit&per_page=100&orderby=id`,
    { headers: adminHeaders(harness!.site) },
  );
  expect(response.status).toBe(200);
  return (await response.json()) as WordPressRestUser[];
}
