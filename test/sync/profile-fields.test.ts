import { afterEach, describe, expect, it } from 'vitest';
import type { FakeUser } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const ada: FakeUser = {
  id: 'adaada00-0000-4000-8000-000000000001',
  userPrincipalName: 'ada@contoso.com',
  mail: 'ada@contoso.com',
  mailNickname: '',
  givenName: 'Ada',
  surname: 'Lovelace',
  displayName: null,
  jobTitle: 'Engineer',
  department: 'Analytical Engines',
  preferredLanguage: 'en-US',
  onPremisesExtensionAttributes: { extensionAttribute1: 'https://contoso.com/people/ada' },
  extension_1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6_costCenter: 'CC-42',
};

describe('profile fields and meta from Entra', () => {
  it('fills names, description, url and locale from paths, templates and fallbacks, and the meta the site allows', async () => {
    harness = await startSyncHarness([ada]);
    await runPhpOnSite(`update_option('entra_wp_sync_allowed_meta_keys', ['cost_center']); echo 'ok';`);
    await harness.writeConfig({
      map: {
        display_name: ['displayName', '{givenName} {surname}'],
        nickname: ['mailNickname', 'givenName'],
        description: '{jobTitle}, {department}',
        url: 'onPremisesExtensionAttributes.extensionAttribute1',
        locale: 'preferredLanguage',
        meta: {
          cost_center: 'extension_1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6_costCenter',
          department: 'department',
        },
      },
    });
    const first = await harness.runJobs();
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('the site does not accept the meta keys department');
    const stored = JSON.parse(
      await runPhpOnSite(`
        $u = get_user_by('email', 'ada@contoso.com');
        echo json_encode(['first' => $u->first_name, 'last' => $u->last_name, 'display' => $u->display_name,
          'nickname' => $u->nickname, 'description' => $u->description, 'url' => $u->user_url, 'locale' => $u->locale,
          'cost' => get_user_meta($u->ID, 'cost_center', true), 'department' => get_user_meta($u->ID, 'department', true)]);
      `),
    );
    expect(stored).toEqual({
      first: 'Ada',
      last: 'Lovelace',
      display: 'Ada Lovelace',
      nickname: 'Ada',
      description: 'Engineer, Analytical Engines',
      url: 'https://contoso.com/people/ada',
      locale: 'en_US',
      cost: 'CC-42',
      department: '',
    });
    const selected =
      harness.graph.requests.find((request) => request.path === '/v1.0/users')?.query.$select ?? '';
    expect(selected.split(',')).toEqual(
      expect.arrayContaining([
        'onPremisesExtensionAttributes',
        'extension_1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6_costCenter',
        'preferredLanguage',
      ]),
    );

    const second = await harness.runJobs();
    expect(second.stdout).toContain('staff: 1 unchanged');
  });
});
