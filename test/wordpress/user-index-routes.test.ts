// The companion plugin's compact index and lookup must show users exactly as core REST
// does with context=edit, or a no-op run would plan writes (and a delta run miss users).
import { beforeAll, describe, expect, it } from 'vitest';
import { WordPressClient } from '../../src/wordpress/rest-client.ts';
import { loadAllUsers } from '../../src/wordpress/user-index.ts';
import { lookupUsers } from '../../src/wordpress/user-lookup.ts';
import {
  adminHeaders,
  basicAuth,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
} from '../support/wordpress-site.ts';

let site: WordPressSite;
let client: WordPressClient;

beforeAll(async () => {
  site = await useWordPressSite();
  client = new WordPressClient({
    url: site.url,
    username: site.adminUser,
    applicationPassword: site.appPassword,
  });
  // 1,203 users: more than one compact page; awkward values; every kind of meta state.
  await runPhpOnSite(`
    update_option('entra_wp_sync_allowed_meta_keys', ['department']);
    // Inserted with SQL: wp_insert_user would take most of this test's time.
    global $wpdb;
    $caps = $wpdb->prefix . 'capabilities';
    for ($i = 0; $i < 1200; $i++) {
      $wpdb->insert($wpdb->users, ['user_login' => "bulk$i", 'user_email' => "bulk$i@contoso.com", 'user_pass' => 'x',
        'user_nicename' => "bulk$i", 'display_name' => "Bulk Person $i", 'user_registered' => '2026-01-01 00:00:00']);
      $id = $wpdb->insert_id;
      $meta = [$caps => serialize(['subscriber' => true]), 'first_name' => "Bulk $i", 'nickname' => "bulk$i"];
      if ($i % 3 === 0) {
        $meta['entra_wp_sync_object_id'] = sprintf('00000000-0000-4000-8000-%012d', $i);
        $meta['entra_wp_sync_jobs'] = serialize($i % 2 ? ['staff'] : ['staff', 'alumni']);
      }
      $rows = [];
      foreach ($meta as $key => $value) $rows[] = $wpdb->prepare('(%d, %s, %s)', $id, $key, $value);
      $wpdb->query("INSERT INTO {$wpdb->usermeta} (user_id, meta_key, meta_value) VALUES " . implode(',', $rows));
    }
    $odd = wp_insert_user(['user_login' => 'jorg.o@contoso.com', 'user_email' => 'Jorg.O@Contoso.com', 'user_pass' => 'x',
      'first_name' => 'Jörg', 'last_name' => "O'Brien <b>", 'display_name' => 'Jörg 🚀 אבג', 'nickname' => 'jö',
      'description' => "two\\nlines & <em>html</em>", 'user_url' => 'https://example.com/ä', 'locale' => 'de_DE']);
    update_user_meta($odd, 'entra_wp_sync_object_id', 'ABCDEF01-0000-4000-8000-000000000001');
    update_user_meta($odd, 'entra_wp_sync_status', 'disabled');
    update_user_meta($odd, 'entra_wp_sync_restore_roles', ['editor', 'author']);
    update_user_meta($odd, 'department', 'Sales & Ops');
    (new WP_User($odd))->set_role('');
    echo 'ok';
  `);
}, 120_000);

describe('the compact user index', () => {
  it('returns every user with the same values as /wp/v2/users?context=edit', async () => {
    const core = await loadAllUsers(client);
    client.requestCount = 0;
    const compact = await loadAllUsers(client, { compact: true });
    expect(client.requestCount).toBe(2);
    expect(compact).toHaveLength(1203);
    expect(compact).toEqual(core);
    expect(compact.find((user) => user.username === 'jorg.o@contoso.com')).toMatchObject({
      roles: [],
      locale: 'de_DE',
      meta: {
        entra_wp_sync_status: 'disabled',
        entra_wp_sync_restore_roles: ['editor', 'author'],
        department: 'Sales & Ops',
      },
    });
  });
});

describe('the user lookup', () => {
  it('finds users by object ID, email and login without regard to case, and counts the users a job manages', async () => {
    const found = await lookupUsers(
      client,
      {
        objectIds: ['abcdef01-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000003'],
        emails: ['BULK7@contoso.com'],
        logins: ['Bulk8', 'nobody'],
        shortLogins: ['JORG.O'],
      },
      'staff',
    );
    expect(found.users.map((user) => user.username).sort()).toEqual([
      'bulk3',
      'bulk7',
      'bulk8',
      'jorg.o@contoso.com',
    ]);
    expect(found.managed).toBe(400);
    expect((await lookupUsers(client, { objectIds: [] }, 'alumni')).managed).toBe(200);
  });

  it('answers only accounts that may manage users', async () => {
    for (const authorization of [undefined, basicAuth(site.editorUser, site.editorAppPassword)]) {
      for (const [method, route] of [
        ['GET', 'entra-wp-sync/v1/users'],
        ['POST', 'entra-wp-sync/v1/users/lookup'],
      ] as const) {
        const response = await fetch(`${site.restUrl}${route}`, {
          method,
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: method === 'POST' ? JSON.stringify({ emails: ['bulk1@contoso.com'] }) : undefined,
        });
        expect(response.status).toBe(authorization ? 403 : 401);
        expect(await response.text()).not.toContain('bulk1@contoso.com');
      }
    }
    const admin = await fetch(`${site.restUrl}entra-wp-sync/v1/users?per_page=1`, {
      headers: adminHeaders(site),
    });
    expect(admin.status).toBe(200);
  });
});
