// The companion plugin makes REST user creation cheaper (plugin section 8): a new user's
// meta goes straight to add_metadata() and the user count is refreshed once per request.
// What WordPress stores must not change: the same rows, one per key, and a right count.
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
  wordpressIsAtLeast,
} from '../support/wordpress-site.ts';

let site: WordPressSite;

beforeEach(async () => {
  site = await useWordPressSite();
});

const profile = {
  password: 'x-Long-Password-1',
  first_name: 'Zoë',
  last_name: "O'Brien \\ Smith",
  name: 'Zoë O’Brien',
  nickname: 'zoe',
  description: 'Two\nlines & <em>html</em>',
  locale: 'en_US',
};

/** A user's meta rows as {key: [values]}, the object id shown as <id>. */
async function metaRows(login: string): Promise<Record<string, string[]>> {
  const output = await runPhpOnSite(`
    global $wpdb;
    $user = get_user_by('login', ${JSON.stringify(login)});
    $rows = $wpdb->get_results($wpdb->prepare("SELECT meta_key, meta_value FROM {$wpdb->usermeta} WHERE user_id = %d ORDER BY umeta_id", $user->ID));
    $out = [];
    foreach ($rows as $row) {
      // Values that differ per user by nature: the object id, and when the plugin saw it registered.
      $value = $row->meta_key === 'entra_wp_sync_object_id' ? '<id>' : ($row->meta_key === '_entra_wp_sync_registered_at' ? '<time>' : $row->meta_value);
      $out[$row->meta_key][] = $value;
    }
    ksort($out);
    echo json_encode($out);
  `);
  return JSON.parse(output.trim().split('\n').pop() ?? '{}');
}

interface BatchItem {
  status: number;
  body: { id?: number; roles?: string[]; meta?: Record<string, unknown> };
}

async function createInBatch(users: Array<Record<string, unknown>>): Promise<BatchItem[]> {
  const response = await fetch(`${site.restUrl}batch/v1`, {
    method: 'POST',
    headers: adminHeaders(site),
    body: JSON.stringify({ requests: users.map((body) => ({ method: 'POST', path: '/wp/v2/users', body })) }),
  });
  expect(response.status).toBe(207);
  return ((await response.json()) as { responses: BatchItem[] }).responses;
}

describe('user creation over REST', () => {
  it('stores the same meta rows as wp_insert_user, one row per key', async () => {
    const created = await createInBatch(
      ['rest.one', 'rest.two'].map((login, index) => ({
        ...profile,
        username: login,
        email: `${login}@contoso.com`,
        roles: ['editor'],
        meta: {
          entra_wp_sync_object_id: `00000000-0000-4000-8000-00000000000${index}`,
          entra_wp_sync_jobs: ['staff'],
          entra_wp_sync_status: 'active',
        },
      })),
    );
    expect(created.map((item) => item.status)).toEqual([201, 201]);
    // The response is built from the meta cache the plugin keeps for a new user.
    expect(created[1]?.body.roles).toEqual(['editor']);
    expect(created[1]?.body.meta).toMatchObject({
      entra_wp_sync_object_id: '00000000-0000-4000-8000-000000000001',
      entra_wp_sync_jobs: ['staff'],
      entra_wp_sync_status: 'active',
    });
    await runPhpOnSite(`
      $id = wp_insert_user(wp_slash([
        'user_login' => 'plain.one', 'user_email' => 'plain.one@contoso.com', 'user_pass' => 'x-Long-Password-1',
        'first_name' => 'Zoë', 'last_name' => "O'Brien \\\\ Smith", 'display_name' => 'Zoë O’Brien', 'nickname' => 'zoe',
        'description' => "Two\\nlines & <em>html</em>", 'locale' => 'en_US', 'role' => 'editor',
      ]));
      update_user_meta($id, 'entra_wp_sync_object_id', '00000000-0000-4000-8000-000000000009');
      update_user_meta($id, 'entra_wp_sync_jobs', ['staff']);
      update_user_meta($id, 'entra_wp_sync_status', 'active');
      echo $id;
    `);

    const plain = await metaRows('plain.one');
    expect(plain.last_name).toEqual(["O'Brien \\ Smith"]);
    expect(plain.entra_wp_sync_jobs).toEqual(['a:1:{i:0;s:5:"staff";}']);
    expect(await metaRows('rest.one')).toEqual(plain);
    expect(await metaRows('rest.two')).toEqual(plain);
  });

  it('replaces rows left behind under the new user id instead of keeping them beside the new ones', async () => {
    // A restored database or a plugin writing with SQL can leave rows for an id not yet used.
    const next = await runPhpOnSite(`
      global $wpdb;
      $next = (int) $wpdb->get_var("SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{$wpdb->users}'");
      $wpdb->insert($wpdb->usermeta, ['user_id' => $next, 'meta_key' => 'first_name', 'meta_value' => 'Stale']);
      $wpdb->insert($wpdb->usermeta, ['user_id' => $next, 'meta_key' => 'entra_wp_sync_status', 'meta_value' => 'disabled']);
      echo $next;
    `);
    const created = await createInBatch([
      {
        ...profile,
        username: 'after.leftovers',
        email: 'after.leftovers@contoso.com',
        meta: { entra_wp_sync_status: 'active' },
      },
    ]);
    expect(created.map((item) => item.status)).toEqual([201]);
    expect(created[0]?.body.id).toBe(Number(next.trim().split('\n').pop()));

    const rows = await metaRows('after.leftovers');
    expect(rows.first_name).toEqual(['Zoë']);
    expect(rows.entra_wp_sync_status).toEqual(['active']);
    for (const [key, values] of Object.entries(rows)) expect(values, key).toHaveLength(1);
  });

  it('hashes the sync’s random password of a new account at the least bcrypt cost, every other password as core does', async () => {
    const secret = randomBytes(24).toString('base64url');
    const marked = { entra_wp_sync_object_id: '00000000-0000-4000-8000-0000000000aa' };
    // In one batch, so a cheap hash that leaked into the next item would show.
    const created = await createInBatch([
      { username: 'sync.made', email: 'sync.made@contoso.com', password: secret, meta: marked },
      { username: 'admin.made', email: 'admin.made@contoso.com', password: secret },
      {
        username: 'short.secret',
        email: 'short.secret@contoso.com',
        password: 'x-Long-Password-1',
        meta: marked,
      },
    ]);
    expect(created.map((item) => item.status)).toEqual([201, 201, 201]);
    const output = await runPhpOnSite(`
      $out = [];
      foreach (['sync.made' => ${JSON.stringify(secret)}, 'admin.made' => ${JSON.stringify(secret)}, 'short.secret' => 'x-Long-Password-1'] as $login => $password) {
        $user = get_user_by('login', $login);
        $out[$login] = ['hash' => substr($user->user_pass, 0, 10), 'accepted' => wp_check_password($password, $user->user_pass, $user->ID)];
      }
      // The person sets a password of their own later: hashed as core hashes any.
      $user = get_user_by('login', 'sync.made');
      wp_set_password('A-password-of-their-own-7', $user->ID);
      $out['later'] = substr(get_user_by('id', $user->ID)->user_pass, 0, 10);
      echo json_encode($out);
    `);
    const hashes = JSON.parse(output.trim().split('\n').pop() ?? '{}') as Record<
      string,
      { hash: string; accepted: boolean } | string
    >;
    const accepted = { accepted: true };
    if (wordpressIsAtLeast(6, 8)) {
      expect(hashes['sync.made']).toEqual({ hash: '$wp$2y$04$', ...accepted });
      expect(hashes['admin.made']).toEqual({ hash: '$wp$2y$10$', ...accepted });
      expect(hashes['short.secret']).toEqual({ hash: '$wp$2y$10$', ...accepted });
      expect(hashes.later).toBe('$wp$2y$10$');
    } else {
      // phpass before 6.8: nothing to save, nothing changed.
      for (const login of ['sync.made', 'admin.made', 'short.secret'])
        expect(hashes[login]).toEqual({ hash: expect.stringMatching(/^\$P\$/), ...accepted });
    }
  });

  it('keeps the site user count right after a batch of creates and deletes', async () => {
    const created = await createInBatch(
      [1, 2, 3, 4].map((n) => ({ ...profile, username: `count.${n}`, email: `count.${n}@contoso.com` })),
    );
    expect(created.map((item) => item.status)).toEqual([201, 201, 201, 201]);
    const response = await fetch(`${site.restUrl}batch/v1`, {
      method: 'POST',
      headers: adminHeaders(site),
      body: JSON.stringify({
        requests: created.slice(0, 2).map((item) => ({
          method: 'DELETE',
          path: `/wp/v2/users/${item.body.id}?force=true&reassign=false`,
        })),
      }),
    });
    const deleted = (await response.json()) as { responses: BatchItem[] };
    expect(deleted.responses.map((item) => item.status)).toEqual([200, 200]);

    const counts = await runPhpOnSite(`
      global $wpdb;
      wp_cache_delete('user_count', 'options');
      echo json_encode([(int) get_option('user_count'), (int) $wpdb->get_var("SELECT COUNT(ID) FROM {$wpdb->users}")]);
    `);
    const [stored, actual] = JSON.parse(counts.trim().split('\n').pop() ?? '[]') as number[];
    expect(stored).toBe(actual);
  });

  it('saves two statements per meta row a REST create writes after wp_insert_user', async () => {
    const output = await runPhpOnSite(`
      global $wpdb;
      define('REST_REQUEST', true);
      wp_set_current_user(get_user_by('login', ${JSON.stringify(site.adminUser)})->ID);
      rest_get_server();
      $create = function ($login) use ($wpdb) {
        $request = new WP_REST_Request('POST', '/wp/v2/users');
        $request->set_body_params(['username' => $login, 'email' => "$login@contoso.com", 'password' => 'x-Long-Password-1',
          'first_name' => 'Ann', 'last_name' => 'Lee', 'locale' => 'en_US', 'roles' => ['editor']]);
        $before = $wpdb->num_queries;
        $status = rest_do_request($request)->get_status();
        return [$wpdb->num_queries - $before, $status];
      };
      $with = $create('rest.with');
      // The same create again, as core alone does it (the second one has warmer caches).
      remove_filter('insert_user_meta', 'entra_wp_sync_track_fresh_user', PHP_INT_MAX);
      remove_filter('update_user_metadata', 'entra_wp_sync_add_fresh_meta', PHP_INT_MAX);
      $without = $create('rest.without');
      echo json_encode([$with, $without]);
    `);
    const [[withPlugin, withStatus], [coreAlone, coreStatus]] = JSON.parse(
      output.trim().split('\n').pop() ?? '[]',
    ) as number[][] as [[number, number], [number, number]];
    expect([withStatus, coreStatus]).toEqual([201, 201]);
    // Before 6.8, wp_insert_user writes its 13 meta rows with update_user_meta(): each costs
    // 1 statement instead of 3. Since 6.8 core adds those rows itself; what is left to save
    // are the first writes after it (the role and the sync's own meta, 5 rows).
    expect(coreAlone - withPlugin).toBeGreaterThanOrEqual(wordpressIsAtLeast(6, 8) ? 10 : 20);
  });
});
