// The shipped plugin's fast-creation switch (plugin section 8): with the constant
// ENTRA_WP_SYNC_FAST_CREATION false, or the filter entra_wp_sync_fast_creation answering
// false, REST user creation takes core's own path, the user comes out the same, and /info
// still offers everything the sync reads.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
  wordpressIsAtLeast,
  wordpressStack,
} from '../support/wordpress-site.ts';

/** How a request asks the must-use plugin below to set the switch. */
type Switch = 'on' | 'filter-off' | 'constant-off' | 'constant-on-filter-off';
const switchHeader = 'x-entra-testbed-fast-creation';

// Named to load after the test bed's loader of the companion: a site's own must-use plugin
// often does, and the switch must still be heard. It acts only on requests with the header,
// so the other worker's site, which shares this WordPress tree, is left alone.
const muPlugin = `<?php
/**
 * Plugin Name: Fast creation switch (test bed)
 * Description: Written by test/wordpress-testbed/plugin-build.test.ts while it runs.
 */
$entra_testbed_switch = isset( $_SERVER['HTTP_X_ENTRA_TESTBED_FAST_CREATION'] ) ? $_SERVER['HTTP_X_ENTRA_TESTBED_FAST_CREATION'] : '';
if ( '' !== $entra_testbed_switch ) {
	if ( 'constant-off' === $entra_testbed_switch ) {
		define( 'ENTRA_WP_SYNC_FAST_CREATION', false );
	} elseif ( 'constant-on-filter-off' === $entra_testbed_switch ) {
		define( 'ENTRA_WP_SYNC_FAST_CREATION', true );
	}
	if ( 'filter-off' === $entra_testbed_switch || 'constant-on-filter-off' === $entra_testbed_switch ) {
		add_filter( 'entra_wp_sync_fast_creation', '__return_false' );
	}
	// Core's update_metadata() looks for the key's row before each insert; the fast path does not.
	$GLOBALS['entra_testbed_meta_lookups'] = 0;
	add_filter(
		'query',
		function ( $query ) {
			if ( preg_match( '/^SELECT umeta_id FROM \\S+ WHERE meta_key = /', $query ) ) {
				++$GLOBALS['entra_testbed_meta_lookups'];
			}
			return $query;
		}
	);
	add_filter(
		'rest_post_dispatch',
		function ( $response ) {
			$response->header( 'X-Entra-Testbed-Meta-Lookups', (string) $GLOBALS['entra_testbed_meta_lookups'] );
			$recount = false !== has_action( 'user_register', 'wp_maybe_update_user_counts' );
			$response->header( 'X-Entra-Testbed-Core-Recount', $recount ? 'yes' : 'no' );
			return $response;
		}
	);
}
`;

let muPluginFile: string;
let site: WordPressSite;

beforeAll(() => {
  muPluginFile = join(
    wordpressStack().descriptor.wordpressDir,
    'wp-content',
    'mu-plugins',
    'zz-entra-testbed-fast-creation.php',
  );
  writeFileSync(muPluginFile, muPlugin);
});

afterAll(() => {
  rmSync(muPluginFile, { force: true });
});

beforeEach(async () => {
  site = await useWordPressSite();
});

interface Created {
  status: number;
  body: { id: number; roles: string[]; meta: Record<string, unknown> };
  /** Statements looking a meta key's row up, as core does before each write. */
  lookups: number;
  /** Whether WordPress's recount after each new user was still hooked. */
  coreRecount: boolean;
}

async function createUser(login: string, setting: Switch): Promise<Created> {
  const response = await fetch(`${site.restUrl}wp/v2/users?context=edit`, {
    method: 'POST',
    headers: { ...adminHeaders(site), [switchHeader]: setting },
    body: JSON.stringify({
      username: login,
      email: `${login}@contoso.com`,
      password: 'x-Long-Password-1',
      first_name: 'Zoë',
      last_name: "O'Brien",
      nickname: 'zoe',
      locale: 'en_US',
      roles: ['editor'],
      meta: {
        entra_wp_sync_object_id: '00000000-0000-4000-8000-000000000001',
        entra_wp_sync_jobs: ['staff'],
        entra_wp_sync_status: 'active',
      },
    }),
  });
  const lookups = response.headers.get('x-entra-testbed-meta-lookups');
  expect(lookups, 'the test bed’s switch plugin answered').not.toBeNull();
  return {
    status: response.status,
    body: (await response.json()) as Created['body'],
    lookups: Number(lookups),
    coreRecount: response.headers.get('x-entra-testbed-core-recount') === 'yes',
  };
}

/** A user's meta rows as {key: [values]}, with the registration time masked. */
async function metaRows(id: number): Promise<Record<string, string[]>> {
  const output = await runPhpOnSite(`
    global $wpdb;
    $rows = $wpdb->get_results($wpdb->prepare("SELECT meta_key, meta_value FROM {$wpdb->usermeta} WHERE user_id = %d ORDER BY umeta_id", ${id}));
    $out = [];
    foreach ($rows as $row) {
      $out[$row->meta_key][] = $row->meta_key === '_entra_wp_sync_registered_at' ? '<time>' : $row->meta_value;
    }
    ksort($out);
    echo json_encode($out);
  `);
  return JSON.parse(output.trim().split('\n').pop() ?? '{}');
}

async function features(setting: Switch): Promise<string[]> {
  const response = await fetch(`${site.restUrl}entra-wp-sync/v1/info`, {
    headers: { ...adminHeaders(site), [switchHeader]: setting },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { features: string[] }).features;
}

describe('the fast-creation switch of the shipped plugin', () => {
  // Before 6.8 wp_insert_user() writes the ~13 keys of a new user with update_user_meta();
  // since 6.8 it adds them itself, and the lookups saved are those of the first writes
  // after it (the role and the sync's meta: 5 keys).
  let lookupsSaved = 0;
  beforeAll(() => {
    lookupsSaved = wordpressIsAtLeast(6, 8) ? 5 : 10;
  });

  it.each<Switch>(['filter-off', 'constant-off'])(
    'with %s, creates users over core’s path, with the same rows and response',
    async (setting) => {
      const fast = await createUser('fast.path', 'on');
      const core = await createUser('core.path', setting);
      expect([fast.status, core.status]).toEqual([201, 201]);

      // On, the first write of each key goes straight to add_metadata().
      expect(fast.coreRecount).toBe(false);
      expect(core.coreRecount).toBe(true);
      expect(core.lookups - fast.lookups).toBeGreaterThanOrEqual(lookupsSaved);

      for (const created of [fast, core]) {
        expect(created.body.roles).toEqual(['editor']);
        expect(created.body.meta).toMatchObject({
          entra_wp_sync_object_id: '00000000-0000-4000-8000-000000000001',
          entra_wp_sync_jobs: ['staff'],
          entra_wp_sync_status: 'active',
        });
      }
      const rows = await metaRows(core.body.id);
      expect(rows.last_name).toEqual(["O'Brien"]);
      expect(rows.entra_wp_sync_jobs).toEqual(['a:1:{i:0;s:5:"staff";}']);
      expect(await metaRows(fast.body.id)).toEqual(rows);
    },
  );

  it('lets a defined constant win over the filter', async () => {
    const control = await createUser('control', 'filter-off');
    const created = await createUser('constant.on', 'constant-on-filter-off');
    expect([control.status, created.status]).toEqual([201, 201]);
    expect(created.coreRecount).toBe(false);
    expect(control.lookups - created.lookups).toBeGreaterThanOrEqual(lookupsSaved);
  });

  it('switched off, still offers in /info every feature the sync reads', async () => {
    const on = await features('on');
    expect(on).toEqual(expect.arrayContaining(['state', 'batch-users', 'user-index', 'user-lookup']));
    expect(await features('filter-off')).toEqual(on);
    expect(await features('constant-off')).toEqual(on);
  });
});
