// A user the sync disables must not get in by any way WordPress offers.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  basicAuth,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
} from '../support/wordpress-site.ts';

let site: WordPressSite;
let userId: number;
let applicationPassword: string;
const login = 'leaver';
const email = 'leaver@contoso.com';
const password = 'Correct-Horse-42';

beforeEach(async () => {
  site = await useWordPressSite();
  const output = await runPhpOnSite(`
    $id = wp_insert_user(['user_login' => '${login}', 'user_email' => '${email}', 'user_pass' => '${password}', 'role' => 'editor']);
    [$app_password] = WP_Application_Passwords::create_new_application_password($id, ['name' => 'test']);
    echo json_encode(['id' => $id, 'app' => $app_password]);
  `);
  const created = JSON.parse(output) as { id: number; app: string };
  userId = created.id;
  applicationPassword = created.app;
});

const testCookie = 'wordpress_test_cookie=WP%20Cookie%20check';

async function passwordLogin(name: string) {
  return fetch(`${site.url}/wp-login.php`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie },
    body: new URLSearchParams({ log: name, pwd: password, 'wp-submit': 'Log In', testcookie: '1' }),
  });
}

async function sessionCookies(): Promise<string> {
  const response = await passwordLogin(login);
  expect(response.status).toBe(302);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

/** What the sync sends to disable a user (src/sync/removals). */
async function disableLikeTheSync() {
  const response = await fetch(`${site.restUrl}wp/v2/users/${userId}`, {
    method: 'POST',
    headers: adminHeaders(site),
    body: JSON.stringify({
      roles: [],
      meta: { entra_wp_sync_status: 'disabled', entra_wp_sync_restore_roles: ['editor'] },
    }),
  });
  expect(response.status).toBe(200);
}

describe('a disabled user', () => {
  it('cannot log in with a password, by username or by email', async () => {
    expect((await passwordLogin(login)).status).toBe(302);
    expect((await passwordLogin(email)).status).toBe(302);
    await disableLikeTheSync();
    for (const name of [login, email]) {
      const response = await passwordLogin(name);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('This account has been disabled');
    }
  });

  it('cannot use an application password', async () => {
    const me = () =>
      fetch(`${site.restUrl}wp/v2/users/me`, {
        headers: { authorization: basicAuth(login, applicationPassword) },
      });
    expect((await me()).status).toBe(200);
    await disableLikeTheSync();
    expect((await me()).status).toBe(401);
  });

  it('loses the sessions it had, and their cookies no longer work', async () => {
    const cookies = await sessionCookies();
    const profile = () =>
      fetch(`${site.url}/wp-admin/profile.php`, { redirect: 'manual', headers: { cookie: cookies } });
    expect((await profile()).status).toBe(200);
    await disableLikeTheSync();
    const after = await profile();
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toContain('wp-login.php');
    const sessions = await runPhpOnSite(`echo count(WP_Session_Tokens::get_instance(${userId})->get_all());`);
    expect(sessions).toBe('0');
  });

  it('cannot ask for a password reset', async () => {
    const reset = () =>
      fetch(`${site.url}/wp-login.php?action=lostpassword`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie },
        body: new URLSearchParams({ user_login: login, 'wp-submit': 'Get New Password' }),
      });
    expect((await reset()).status).toBe(302);
    await disableLikeTheSync();
    const refused = await reset();
    expect(refused.status).toBe(200);
    expect(await refused.text()).toContain('Password reset is not allowed for this user');
  });
});
