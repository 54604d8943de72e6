// Directory fields into user meta, end to end: the manager (its object ID, and the WordPress
// user ID of its account), a directory extension attribute and an on-premises extension
// attribute, read from the fake Graph and stored by the real WordPress.
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeUser } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const costCenter = 'extension_b7d8e648520f41d3b9c0fdeb91768a0a_costCenter';
const metaKeys = ['manager_object_id', 'manager_user_id', 'cost_center', 'badge'];

const person = (n: number, name: string, extra: Record<string, unknown> = {}): FakeUser => ({
  id: `d1f0000${n}-0000-4000-8000-00000000000${n}`,
  userPrincipalName: `${name}@contoso.com`,
  mail: `${name}@contoso.com`,
  givenName: name,
  ...extra,
});

// Listed in this order, two a page: Ada (no manager) and Ben (managed by Ada) on the first,
// Cy (managed by Ada) and Dana on the second, Dana's manager Erin on the last.
const ada = person(1, 'ada', {
  [costCenter]: 'CC-1',
  onPremisesExtensionAttributes: { extensionAttribute3: 'B-100' },
});
const ben = person(2, 'ben', { managerId: ada.id, [costCenter]: 'CC-2' });
const cy = person(3, 'cy', {
  managerId: ada.id,
  onPremisesExtensionAttributes: { extensionAttribute3: 'B-300' },
});
const dana = person(4, 'dana', { managerId: 'd1f00005-0000-4000-8000-000000000005' });
const erin = person(5, 'erin', { managerId: ada.id });

/** The four meta keys of each account, by login. */
async function storedMeta(): Promise<Record<string, Record<string, string>>> {
  return JSON.parse(
    await runPhpOnSite(`
      $out = array();
      foreach (get_users(array('search' => '*@contoso.com', 'search_columns' => array('user_email'))) as $u) {
        $row = array('id' => (string) $u->ID);
        foreach (${JSON.stringify(metaKeys).replace('[', 'array(').replace(']', ')')} as $key) $row[$key] = get_user_meta($u->ID, $key, true);
        $out[$u->user_login] = $row;
      }
      echo wp_json_encode($out);
    `),
  );
}

describe('directory fields into user meta', () => {
  it('stores managers, extension attributes and on-premises extension attributes, and follows a manager change', async () => {
    harness = await startSyncHarness([ada, ben, cy, dana, erin]);
    await runPhpOnSite(
      `update_option('entra_wp_sync_allowed_meta_keys', ${JSON.stringify(metaKeys).replace('[', 'array(').replace(']', ')')}); echo 'ok';`,
    );
    await harness.writeConfig({
      limits: { pageSize: 2 },
      map: {
        meta: {
          manager_object_id: 'manager.id',
          manager_user_id: 'manager.wordpressUserId',
          cost_center: costCenter,
          badge: 'onPremisesExtensionAttributes.extensionAttribute3',
        },
      },
    });
    const first = await harness.runJobs();
    expect(first.code, first.stderr).toBe(0);

    const afterFirst = await storedMeta();
    const idOf = (login: string) => afterFirst[login]!.id;
    expect(afterFirst['ada@contoso.com']).toMatchObject({
      manager_object_id: '',
      manager_user_id: '',
      cost_center: 'CC-1',
      badge: 'B-100',
    });
    expect(afterFirst['ben@contoso.com']).toMatchObject({
      manager_object_id: ada.id,
      // Ada's account is created by the same page's writes: known from the next page on.
      manager_user_id: '',
      cost_center: 'CC-2',
      badge: '',
    });
    // Cy's manager was created on an earlier page of the same run.
    expect(afterFirst['cy@contoso.com']).toMatchObject({
      manager_object_id: ada.id,
      manager_user_id: idOf('ada@contoso.com'),
      cost_center: '',
      badge: 'B-300',
    });
    // Erin comes on a later page: her account does not exist yet when Dana is written.
    expect(afterFirst['dana@contoso.com']).toMatchObject({ manager_object_id: erin.id, manager_user_id: '' });
    // One $expand on the listing, not a request per person.
    const listings = harness.graph.requests.filter((request) => request.path === '/v1.0/users');
    expect(listings.map((request) => request.query.$expand)).toEqual(
      listings.map(() => 'manager($select=id)'),
    );
    expect(harness.graph.requests.some((request) => request.path.endsWith('/manager'))).toBe(false);

    // The next run fills in what the first could not, and follows a manager change in Entra.
    harness.graph.tenant.updateUser(cy.id, { managerId: ben.id });
    const second = await harness.runJobs();
    expect(second.code, second.stderr).toBe(0);
    const afterSecond = await storedMeta();
    expect(afterSecond['ben@contoso.com']).toMatchObject({
      manager_object_id: ada.id,
      manager_user_id: idOf('ada@contoso.com'),
    });
    expect(afterSecond['dana@contoso.com']).toMatchObject({
      manager_object_id: erin.id,
      manager_user_id: idOf('erin@contoso.com'),
    });
    expect(afterSecond['cy@contoso.com']).toMatchObject({
      manager_object_id: ben.id,
      manager_user_id: idOf('ben@contoso.com'),
    });
    expect(
      second.rows
        .filter((row) => row.action === 'updated')
        .map((row) => row.objectId)
        .sort(),
    ).toEqual([ben.id, cy.id, dana.id].sort());

    const third = await harness.runJobs();
    expect(third.stdout).toContain('staff: 5 unchanged');
  });
});
