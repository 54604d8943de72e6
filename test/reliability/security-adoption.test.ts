// Account takeover by adoption: linking an existing WordPress account to an Entra user hands
// it that person's roles, so it happens automatically only with proof (the object ID under
// another tool's key, or the email/login since before the job began managing the site).
// Each attack below is made against the real site, as the attacker could make it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUser } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import { basicAuth, runPhpOnSite, wordpressStack, workerSiteIndex } from '../support/wordpress-site.ts';

const sql = (query: string) => wordpressStack().runSql(workerSiteIndex(), query);

function person(n: number, name: string, extra: Record<string, unknown> = {}): FakeUser {
  return {
    id: `ad0be000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
    userPrincipalName: `${name}@contoso.com`,
    mail: `${name}@contoso.com`,
    displayName: name,
    ...extra,
  };
}

/** An account made in the site as a member or an SSO plugin would make it; its id and app password. */
async function registerMember(login: string, email: string, meta: Record<string, string> = {}) {
  return JSON.parse(
    await runPhpOnSite(`
      $id = wp_insert_user(['user_login' => ${JSON.stringify(login)}, 'user_email' => ${JSON.stringify(email)}, 'user_pass' => 'Member-Pass-42', 'role' => 'subscriber']);
      foreach (json_decode(${JSON.stringify(JSON.stringify(meta))}, true) as $key => $value) update_user_meta($id, $key, $value);
      [$app] = WP_Application_Passwords::create_new_application_password($id, ['name' => 'phone']);
      echo json_encode(['id' => $id, 'app' => $app]);
    `),
  ) as { id: number; app: string };
}

async function account(id: number) {
  const [row] = (
    await sql(
      `SELECT u.user_email, (SELECT meta_value FROM wp_usermeta WHERE user_id = u.ID AND meta_key = 'wp_capabilities'), (SELECT COUNT(*) FROM wp_usermeta WHERE user_id = u.ID AND meta_key LIKE 'entra_wp_sync_%') FROM wp_users u WHERE u.ID = ${id}`,
    )
  )
    .trim()
    .split('\n')
    .map((line) => line.split('\t'));
  return { email: row?.[0], roles: row?.[1], syncMeta: Number(row?.[2]) };
}

describe('security: existing accounts are linked to an Entra user only with proof', () => {
  const employee = person(1, 'ann');
  const joinerByEmail = person(2, 'bea');
  const joinerByLogin = person(3, 'cid');
  const joinerViaSso = person(4, 'dot');
  let harness: SyncHarness;
  let premigrated: number;
  let mallory: { id: number; app: string };
  let squatter: { id: number; app: string };
  let ssoAccount: { id: number; app: string };
  let first: Awaited<ReturnType<SyncHarness['runJobs']>>;
  let second: Awaited<ReturnType<SyncHarness['runJobs']>>;
  let emailChange: Response;

  const rowsOf = (run: typeof first, user: FakeUser) => run.rows.filter((row) => row.objectId === user.id);

  beforeAll(async () => {
    harness = await startSyncHarness([employee]);
    await harness.writeConfig({
      map: { user_login: 'userPrincipalName' },
      roles: { default: 'editor' },
    });
    // A migration onto the sync: ann's account existed before the job's first run.
    premigrated = (await registerMember('ann.local', 'ann@contoso.com')).id;
    mallory = await registerMember('mallory', 'mallory@example.net');
    first = await harness.runJobs();

    // After the first cycle, Mallory points her own account at a joiner's address over REST,
    // and someone registers the username another joiner will get.
    emailChange = await fetch(`${harness.site.restUrl}wp/v2/users/me`, {
      method: 'POST',
      headers: { authorization: basicAuth('mallory', mallory.app), 'content-type': 'application/json' },
      body: JSON.stringify({ email: joinerByEmail.mail }),
    });
    squatter = await registerMember(joinerByLogin.userPrincipalName, 'squatter@example.net');
    // The SSO plugin made dot's account at her first sign-in, before the sync saw her.
    ssoAccount = await registerMember('dot.sso', 'dot@contoso.com', { aadObjectId: joinerViaSso.id });
    for (const joiner of [joinerByEmail, joinerByLogin, joinerViaSso]) harness.graph.tenant.addUser(joiner);
    second = await harness.runJobs();
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('adopts an account that had the employee email before the first run: one account, an adopted row', async () => {
    expect(first.code).toBe(0);
    expect(rowsOf(first, employee).map((row) => [row.action, row.wordpressId])).toEqual([
      ['adopted', premigrated],
    ]);
    expect(String(rowsOf(first, employee)[0]?.message)).toContain('before the job began managing the site');
    expect(first.summary).toMatch(/\| adopted \|/);
    expect(await sql("SELECT COUNT(*) FROM wp_users WHERE user_email = 'ann@contoso.com'")).toBe('1\n');
    expect(await account(premigrated)).toMatchObject({ roles: expect.stringContaining('editor') });
  });

  it("a member's own email change over REST is recorded by the plugin, out of the REST API's reach", async () => {
    expect(emailChange.status).toBe(200);
    const recorded = await runPhpOnSite(
      `echo (int) get_user_meta(${mallory.id}, '_entra_wp_sync_identity_changed_at', true) > 0 ? 'recorded' : 'missing';`,
    );
    expect(recorded).toBe('recorded');
    // The member cannot erase or back-date the record through REST.
    const forge = await fetch(`${harness.site.restUrl}wp/v2/users/me`, {
      method: 'POST',
      headers: { authorization: basicAuth('mallory', mallory.app), 'content-type': 'application/json' },
      body: JSON.stringify({
        meta: { _entra_wp_sync_identity_changed_at: '1' },
        entra_wp_sync_identity: { identityChangedAt: null, registeredAt: '2000-01-01T00:00:00Z' },
      }),
    });
    expect(forge.status).toBeLessThan(500);
    const after = await runPhpOnSite(
      `echo (int) get_user_meta(${mallory.id}, '_entra_wp_sync_identity_changed_at', true) > 1 ? 'kept' : 'forged';`,
    );
    expect(after).toBe('kept');
  });

  it('holds the subscriber who took a joiner email and the account registered under a joiner UPN, and exits 4', async () => {
    expect(second.code).toBe(4);
    const held = second.rows.filter((row) => row.action === 'held');
    expect(held.map((row) => [row.objectId, row.wordpressId]).sort()).toEqual(
      [
        [joinerByEmail.id, mallory.id],
        [joinerByLogin.id, squatter.id],
      ].sort(),
    );
    expect(String(rowsOf(second, joinerByEmail)[0]?.message)).toMatch(
      /by email, but the account's email or login was changed on .* after the job began managing the site/,
    );
    expect(String(rowsOf(second, joinerByLogin)[0]?.message)).toMatch(
      /by username, but the account was registered on .* after the job began managing the site/,
    );
    for (const row of held) expect(String(row.message)).toContain('--allow-adoptions');
    expect(second.summary).toContain('### Held adoptions');
    expect(second.summary).toContain('- mallory');
    expect(second.summary).toContain(`- ${joinerByLogin.userPrincipalName}`);
  });

  it('leaves both accounts subscribers without any marker of the sync, and creates no duplicate', async () => {
    for (const id of [mallory.id, squatter.id]) {
      const state = await account(id);
      expect(state.roles).toContain('subscriber');
      expect(state.roles).not.toContain('editor');
      expect(state.syncMeta).toBe(0);
    }
    expect(await sql(`SELECT COUNT(*) FROM wp_users WHERE user_email = '${joinerByEmail.mail}'`)).toBe('1\n');
    expect(
      await sql(`SELECT COUNT(*) FROM wp_users WHERE user_login = '${joinerByLogin.userPrincipalName}'`),
    ).toBe('1\n');
  });

  it("adopts the account the SSO plugin made, which carries the joiner's object ID under aadObjectId", async () => {
    expect(rowsOf(second, joinerViaSso).map((row) => [row.action, row.wordpressId])).toEqual([
      ['adopted', ssoAccount.id],
    ]);
    expect(String(rowsOf(second, joinerViaSso)[0]?.message)).toContain('under aadObjectId');
    expect((await account(ssoAccount.id)).roles).toContain('editor');
  });

  it('links a held account only when a person approves the run with --allow-adoptions', async () => {
    const again = await harness.runJobs();
    expect(again.code).toBe(4);
    expect((await account(mallory.id)).syncMeta).toBe(0);
    const approved = await harness.runJobs(['--allow-adoptions']);
    expect(approved.code).toBe(0);
    expect(rowsOf(approved, joinerByEmail).map((row) => [row.action, row.wordpressId])).toEqual([
      ['adopted', mallory.id],
    ]);
    expect(String(rowsOf(approved, joinerByEmail)[0]?.message)).toContain('approved by');
    expect((await account(mallory.id)).roles).toContain('editor');
  });
});

describe('security: a create that collides with an account made meanwhile does not link it', () => {
  const joiner = person(10, 'eve.joiner');
  let harness: SyncHarness;
  let proxy: WordPressProxy;
  let squatterId = 0;
  let run: Awaited<ReturnType<SyncHarness['runJobs']>>;

  beforeAll(async () => {
    harness = await startSyncHarness([person(11, 'first.person')]);
    await harness.writeConfig({ map: { user_login: 'userPrincipalName' }, roles: { default: 'editor' } });
    expect((await harness.runJobs()).code).toBe(0);
    harness.graph.tenant.addUser(joiner);
    // The moment the sync sends the joiner's create, someone registers with the joiner's email.
    proxy = await startWordPressProxy(harness.site.url, {
      before: async (request): Promise<'forward'> => {
        if (
          squatterId === 0 &&
          request.method === 'POST' &&
          request.body.includes(joiner.userPrincipalName)
        ) {
          squatterId = (await registerMember('squatter', String(joiner.mail))).id;
        }
        return 'forward';
      },
    });
    await harness.writeConfig(
      { map: { user_login: 'userPrincipalName' }, roles: { default: 'editor' } },
      { wordpress: { url: proxy.url, username: harness.site.adminUser } },
    );
    run = await harness.runJobs();
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await harness?.stop();
  });

  it('reports the person as failed, and the squatting account keeps its role with no marker', async () => {
    expect(squatterId).toBeGreaterThan(0);
    expect(run.code).toBe(3);
    const rows = run.rows.filter((row) => row.objectId === joiner.id);
    expect(rows.map((row) => row.action)).toEqual(['failed']);
    expect(String(rows[0]?.message)).toContain('not linked to this Entra user');
    const state = await account(squatterId);
    expect(state.roles).toContain('subscriber');
    expect(state.roles).not.toContain('editor');
    expect(state.syncMeta).toBe(0);
  });
});

describe('security: restoring a disabled account grants no privileged role the mapping does not give', () => {
  const leaver = person(20, 'fay');
  let harness: SyncHarness;
  let restoring: Awaited<ReturnType<SyncHarness['runJobs']>>;
  let userId = 0;

  beforeAll(async () => {
    harness = await startSyncHarness([leaver, person(21, 'gus'), person(22, 'hal')]);
    await harness.writeConfig({ actions: { delete: 'soft' }, roles: { default: 'author', mode: 'add' } });
    expect((await harness.runJobs()).code).toBe(0);
    harness.graph.tenant.removeUser(leaver.id);
    expect((await harness.runJobs()).code).toBe(0);
    userId = Number(await sql("SELECT ID FROM wp_users WHERE user_email = 'fay@contoso.com'"));
    // Someone who may edit users stages administrator as the role to give back.
    await runPhpOnSite(
      `update_user_meta(${userId}, 'entra_wp_sync_restore_roles', ['administrator', 'author']);`,
    );
    harness.graph.tenant.addUser(leaver);
    restoring = await harness.runJobs();
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('restores the person with the mapped role only', async () => {
    expect(restoring.code).toBe(0);
    expect(restoring.rows.filter((row) => row.objectId === leaver.id).map((row) => row.action)).toEqual([
      'restored',
    ]);
    const roles = (await account(userId)).roles;
    expect(roles).toContain('author');
    expect(roles).not.toContain('administrator');
  });
});
