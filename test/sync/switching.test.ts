// Switching from WPO365 SYNC or miniOrange User Sync in one run: the Graph query the
// administrator tested there reads the same users here, the accounts those plugins made are
// linked instead of duplicated, and the accounts the sync makes carry the object ID where the
// site's SSO plugin looks for it. Against the fake Graph and the real WordPress test bed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUser } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { adminHeaders, basicAuth, runPhpOnSite } from '../support/wordpress-site.ts';

function person(n: number, name: string, extra: Record<string, unknown> = {}): FakeUser {
  return {
    id: `5a1c0000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
    userPrincipalName: `${name}@contoso.com`,
    mail: `${name}@contoso.com`,
    displayName: name,
    accountEnabled: true,
    ...extra,
  };
}

/** An account as the old plugin left it: its own meta, none of the sync's; its id and app password. */
async function oldPluginAccount(
  login: string,
  email: string,
  role: string,
  meta: Record<string, string> = {},
) {
  return JSON.parse(
    await runPhpOnSite(`
      $id = wp_insert_user(['user_login' => ${JSON.stringify(login)}, 'user_email' => ${JSON.stringify(email)}, 'user_pass' => wp_generate_password(), 'role' => ${JSON.stringify(role)}]);
      foreach (json_decode(${JSON.stringify(JSON.stringify(meta))}, true) as $key => $value) update_user_meta($id, $key, $value);
      [$app] = WP_Application_Passwords::create_new_application_password($id, ['name' => 'phone']);
      echo json_encode(['id' => $id, 'app' => $app]);
    `),
  ) as { id: number; app: string };
}

const metaOf = async (id: number, key: string) =>
  runPhpOnSite(`echo (string) get_user_meta(${id}, ${JSON.stringify(key)}, true);`);
const userCount = async () => Number(await runPhpOnSite('echo count_users()["total_users"];'));

describe('switching: the accounts WPO365 and miniOrange linked are adopted on the first run', () => {
  // Their WordPress emails are old ones, so only the object ID links them.
  const viaWpo365 = person(1, 'ann');
  const viaMiniOrange = person(2, 'bob');
  const joiner = person(3, 'cat');
  let harness: SyncHarness;
  let wpo365Account: { id: number; app: string };
  let miniOrangeAccount: { id: number; app: string };
  let usersBefore: number;
  let first: Awaited<ReturnType<SyncHarness['runJobs']>>;

  const rowOf = (run: typeof first, user: FakeUser) => run.rows.filter((row) => row.objectId === user.id);

  beforeAll(async () => {
    harness = await startSyncHarness([viaWpo365, viaMiniOrange, joiner]);
    await harness.writeConfig({ adoption: { writeObjectIdKeys: ['aadObjectId'] } });
    wpo365Account = await oldPluginAccount('ann.sso', 'ann.before@contoso.com', 'subscriber', {
      aadObjectId: viaWpo365.id,
    });
    miniOrangeAccount = await oldPluginAccount('bob.synced', 'bob.before@contoso.com', 'subscriber', {
      AD_SYNC_ID: viaMiniOrange.id,
    });
    usersBefore = await userCount();
    first = await harness.runJobs();
  }, 180_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('links both accounts with the key as proof, holds nothing and creates only the joiner', async () => {
    expect(first.code, first.stderr).toBe(0);
    expect(rowOf(first, viaWpo365).map((row) => [row.action, row.wordpressId])).toEqual([
      ['adopted', wpo365Account.id],
    ]);
    expect(String(rowOf(first, viaWpo365)[0]?.message)).toContain('under aadObjectId');
    expect(rowOf(first, viaMiniOrange).map((row) => [row.action, row.wordpressId])).toEqual([
      ['adopted', miniOrangeAccount.id],
    ]);
    expect(String(rowOf(first, viaMiniOrange)[0]?.message)).toContain('under AD_SYNC_ID');
    expect(first.rows.filter((row) => row.action === 'held')).toEqual([]);
    expect(rowOf(first, joiner).map((row) => row.action)).toEqual(['created']);
    expect(await userCount()).toBe(usersBefore + 1);
    expect(await metaOf(miniOrangeAccount.id, 'entra_wp_sync_object_id')).toBe(viaMiniOrange.id);
  });

  it("gives the created joiner and the linked miniOrange account the object ID under the SSO plugin's key", async () => {
    const created = Number(rowOf(first, joiner)[0]?.wordpressId);
    expect(await metaOf(created, 'aadObjectId')).toBe(joiner.id);
    expect(await metaOf(miniOrangeAccount.id, 'aadObjectId')).toBe(viaMiniOrange.id);
    expect(await metaOf(wpo365Account.id, 'aadObjectId')).toBe(viaWpo365.id);
  });

  it('writes nothing more on the next run', async () => {
    const again = await harness.runJobs();
    expect(again.code, again.stderr).toBe(0);
    expect(again.rows.map((row) => row.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  describe('the object-ID keys field cannot be used to write other meta', () => {
    const field = 'entra_wp_sync_object_id_keys';
    const post = async (userId: number | 'me', authorization: string, body: unknown, sync = true) => {
      const response = await fetch(`${harness.site.restUrl}wp/v2/users/${userId}`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/json',
          ...(sync ? { 'x-entra-wp-sync': '1' } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, code: ((await response.json()) as { code?: string }).code };
    };
    const admin = () => adminHeaders(harness.site).authorization!;

    it('refuses a subscriber writing a key on their own account, header or not', async () => {
      const member = await oldPluginAccount('mallory', 'mallory@example.net', 'subscriber');
      const result = await post(member.id, basicAuth('mallory', member.app), {
        [field]: { aadObjectId: joiner.id },
      });
      expect(result.status).toBe(403);
      expect(await metaOf(member.id, 'aadObjectId')).toBe('');
    });

    it("refuses an editor writing a key on someone else's account", async () => {
      const editor = await oldPluginAccount('eddie', 'eddie@example.net', 'editor');
      const result = await post(wpo365Account.id, basicAuth('eddie', editor.app), {
        [field]: { aadObjectId: joiner.id },
      });
      expect(result.status).toBe(403);
      expect(await metaOf(wpo365Account.id, 'aadObjectId')).toBe(viaWpo365.id);
    });

    it("refuses even the sync's administrator a core key, another object ID, or a request not from the sync", async () => {
      const target = miniOrangeAccount.id;
      expect(await post(target, admin(), { [field]: { wp_capabilities: viaMiniOrange.id } })).toMatchObject({
        status: 400,
      });
      expect(await post(target, admin(), { [field]: { session_tokens: viaMiniOrange.id } })).toMatchObject({
        status: 400,
      });
      expect(await post(target, admin(), { [field]: { sso_id: joiner.id } })).toMatchObject({ status: 400 });
      expect(await post(target, admin(), { [field]: { sso_id: viaMiniOrange.id } }, false)).toMatchObject({
        status: 403,
        code: 'entra_wp_sync_not_sync',
      });
      expect(await post(target, admin(), { [field]: { sso_id: 'not-a-guid' } })).toMatchObject({
        status: 400,
      });
      expect(await metaOf(target, 'sso_id')).toBe('');
      // A key that points the SSO plugin at someone else is not taken over.
      await runPhpOnSite(`update_user_meta(${target}, 'sso_other', ${JSON.stringify(joiner.id)});`);
      expect(await post(target, admin(), { [field]: { sso_other: viaMiniOrange.id } })).toMatchObject({
        status: 409,
        code: 'entra_wp_sync_object_id_key_taken',
      });
      expect(await metaOf(target, 'sso_other')).toBe(joiner.id);
      expect(await runPhpOnSite(`echo json_encode(get_userdata(${target})->roles);`)).toBe('["subscriber"]');
    });
  });
});

describe('switching: source.query reads the users its structured equivalent reads', () => {
  const tenant = [
    person(11, 'dan', { department: 'Sales' }),
    person(12, 'eva', { department: 'Sales' }),
    person(13, 'fay', { department: 'Sales' }),
    person(14, 'gus', { department: 'Legal' }),
    person(15, 'hal', { department: 'Sales', accountEnabled: false }),
  ];
  // As WPO365 stores it: URL-encoded, "+" for spaces.
  const query =
    'myorganization/users?$filter=accountEnabled+eq+true+and+department+eq+%27Sales%27&$top=2&$count=true';
  const structured = {
    source: { users: { filter: "accountEnabled eq true and department eq 'Sales'" }, count: true },
    limits: { pageSize: 2 },
  };
  let harness: SyncHarness;

  // The page tokens differ from run to run; what was asked for must not.
  const usersRequests = () =>
    harness.graph.requests
      .filter((request) => request.method === 'GET' && request.path.endsWith('/users'))
      .map(({ query: { $skiptoken, ...asked } }) => ({
        ...asked,
        page: $skiptoken === undefined ? 1 : 'next',
      }));

  beforeAll(async () => {
    harness = await startSyncHarness(tenant);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('shows the structured equivalent in check', async () => {
    await harness.writeConfig({ source: { query } });
    const result = await harness.run(['check', '-c', harness.configPath]);
    const line = result.stdout.split('\n').find((text) => text.includes('source.query')) ?? result.stdout;
    expect(line).toContain(
      "source.query → source.users.filter: accountEnabled eq true and department eq 'Sales', source.count: true, limits.pageSize: 2",
    );
  });

  it('syncs exactly the users, with the same Graph requests, as the structured job', async () => {
    await harness.writeConfig({ source: { query } });
    harness.graph.requests.length = 0;
    const byQuery = await harness.runJobs();
    expect(byQuery.code, byQuery.stderr).toBe(0);
    const queryRequests = usersRequests();

    await harness.writeConfig(structured);
    harness.graph.requests.length = 0;
    const byStructure = await harness.runJobs();
    expect(byStructure.code, byStructure.stderr).toBe(0);

    const synced = (run: typeof byQuery) => run.rows.map((row) => String(row.objectId)).sort();
    expect(synced(byQuery)).toEqual([tenant[0]!.id, tenant[1]!.id, tenant[2]!.id]);
    expect(synced(byStructure)).toEqual(synced(byQuery));
    expect(byQuery.rows.map((row) => row.action)).toEqual(['created', 'created', 'created']);
    expect(byStructure.rows.map((row) => row.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    // Two pages of $top=2, asked the same way.
    expect(queryRequests).toHaveLength(2);
    expect(queryRequests[0]).toMatchObject({ $top: '2', $count: 'true' });
    expect(usersRequests()).toEqual(queryRequests);
  });
});
