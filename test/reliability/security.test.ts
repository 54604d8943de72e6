// Secrets stay secret whatever happens, OData values are escaped, the
// companion plugin answers only those who may manage users and refuses protected meta,
// and a user the sync disabled gets in by none of WordPress's five ways in.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  type FakeGraph,
  type FakeUser,
  generateUsers,
  startFakeGraph,
} from '../fixtures/fake-graph/index.ts';
import { type CliResult, runCliProcess } from '../support/cli-process.ts';
import {
  type SyncHarness,
  startSyncHarness,
  testClientId,
  testClientSecret,
  testTenantId,
} from '../support/sync-harness.ts';
import {
  adminHeaders,
  basicAuth,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
  wordpressStack,
  workerSiteIndex,
} from '../support/wordpress-site.ts';
import { filesUnder, leaks, type Output, type Secret, tokenLeaks } from './secret-scan.ts';

const sql = (query: string) => wordpressStack().runSql(workerSiteIndex(), query);

/** Every secret the runs below are given, in the order they are listed. */
const secretNames = [
  'the client secret',
  'a wrong client secret',
  'the WordPress application password',
  'a wrong WordPress application password',
  'the SMTP password',
  'a wrong SMTP password',
  'the certificate private key',
  'the encrypted certificate key',
  'the certificate password',
];

describe('security: secrets appear in no log, report, state file, email or error message', () => {
  const smtpPassword = 'smtp-Pa55:word/&=';
  const wrongSmtpPassword = 'wrong-smtp-Pa55#9';
  const wrongAppPassword = 'Wrng Pass Word Abcd Efgh Ijkl';
  const wrongClientSecret = 'wrong-client-secret-Qz7~';
  const certPassword = 'cert-Pa55-phrase-4u';
  const certClientId = '5c4b3a29-1d0e-4f9a-8b7c-6d5e4f3a2b1c';

  let harness: SyncHarness;
  let certGraph: FakeGraph;
  let smtp: SMTPServer;
  let keyDirectory: string;
  let privateKeyBody: string[] = [];
  let encryptedKeyBody: string[] = [];
  const mails: Buffer[] = [];
  const runs = new Map<string, CliResult>();
  const outputs: Output[] = [];
  let secrets: Secret[] = [];

  async function cli(label: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const result = await runCliProcess(args, { ...harness.env, ...env });
    runs.set(label, result);
    outputs.push(
      { where: `${label}: stdout`, text: result.stdout },
      { where: `${label}: stderr`, text: result.stderr },
    );
    return result;
  }

  /** Writes the job's own jobs.yaml (its own state directory unless it says otherwise); returns its path. */
  async function configFor(label: string, job: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const config = {
      graph: {
        tenantId: testTenantId,
        clientId: testClientId,
        endpoint: harness.graph.graphEndpoint,
        authorityHost: harness.graph.authorityHost,
      },
      wordpress: { url: harness.site.url, username: harness.site.adminUser },
      state: { directory: join(harness.directory, 'state', label) },
      jobs: [{ name: 'staff', source: { users: {} }, ...job }],
      ...extra,
    };
    const path = join(harness.directory, `${label}.yaml`);
    await writeFile(path, stringify(config));
    return path;
  }

  /** A run of the job with its own config and output directory. */
  async function run(
    label: string,
    job: Record<string, unknown>,
    env: NodeJS.ProcessEnv = {},
    options: { extra?: Record<string, unknown>; args?: string[] } = {},
  ) {
    const config = await configFor(label, job, options.extra);
    const out = join(harness.directory, 'out', label);
    return cli(label, ['run', '-c', config, '--out', out, ...(options.args ?? [])], env);
  }

  async function startSmtp(): Promise<number> {
    smtp = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth(auth, _session, callback) {
        if (auth.username === 'sync' && auth.password === smtpPassword) callback(null, { user: 'sync' });
        else callback(new Error('Invalid username or password'));
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push(Buffer.concat(chunks));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    return (smtp.server.address() as AddressInfo).port;
  }

  /** A self-signed certificate whose private key is encrypted with a password, as Entra app credentials use. */
  async function makeCertificate(): Promise<string> {
    keyDirectory = await mkdtemp(join(tmpdir(), 'entra-wp-sync-cert-'));
    const key = join(keyDirectory, 'key.pem');
    const encrypted = join(keyDirectory, 'key.enc.pem');
    const cert = join(keyDirectory, 'cert.pem');
    const openssl = promisify(execFile);
    await openssl('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=entra-wp-sync-test',
    ]);
    await openssl('openssl', [
      'pkcs8',
      '-topk8',
      '-v2',
      'aes-256-cbc',
      '-in',
      key,
      '-out',
      encrypted,
      '-passout',
      `pass:${certPassword}`,
    ]);
    const body = (pem: string) => pem.split('\n').filter((line) => line.length === 64);
    privateKeyBody = body(await readFile(key, 'utf8'));
    encryptedKeyBody = body(await readFile(encrypted, 'utf8'));
    const bundle = join(keyDirectory, 'app.pem');
    await writeFile(bundle, (await readFile(cert, 'utf8')) + (await readFile(encrypted, 'utf8')));
    return bundle;
  }

  beforeAll(async () => {
    harness = await startSyncHarness([
      ...generateUsers(4, 5150),
      { id: 'deadbeef-0000-4000-8000-00000000e001', userPrincipalName: '', mail: null },
    ]);
    const port = await startSmtp();
    const smtpUrl = (password: string) => `smtp://sync:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    const notify = { email: { on: 'always', to: ['it@contoso.com'], from: 'Entra sync <sync@contoso.com>' } };
    const certificate = await makeCertificate();
    certGraph = await startFakeGraph({
      tenant: harness.graph.tenant,
      tenantId: testTenantId,
      apps: [{ clientId: certClientId, federatedAssertions: /^eyJ/, permissions: ['User.Read.All'] }],
    });

    const good = { SMTP_URL: smtpUrl(smtpPassword) };
    const refused = { WORDPRESS_APP_PASSWORD: wrongAppPassword, SMTP_URL: smtpUrl(wrongSmtpPassword) };
    await Promise.all([
      (async () => {
        // 1. A good run, mailed; again with JSON logs (the same checkpoint); then check and state show.
        await run('success', { notify }, good);
        await run('json-logs', { notify }, good, { args: ['--log-format', 'json'] });
        await cli('state show', ['state', 'show', '-c', join(harness.directory, 'json-logs.yaml')]);
        await cli('check', ['check', '-c', join(harness.directory, 'success.yaml')], good);
      })(),
      (async () => {
        // 2. WordPress refuses the application password; the mail server refuses its password.
        await run('bad-wordpress-password', { notify }, refused);
        await cli(
          'check with bad passwords',
          ['check', '-c', join(harness.directory, 'bad-wordpress-password.yaml')],
          refused,
        );
        // 3. Entra refuses the client secret (401 from the token endpoint)…
        const wrongSecret = { AZURE_CLIENT_SECRET: wrongClientSecret };
        await run('wrong-client-secret', {}, wrongSecret);
        await cli(
          'check with a wrong secret',
          ['check', '-c', join(harness.directory, 'wrong-client-secret.yaml')],
          wrongSecret,
        );
      })(),
    ]);
    // …and Graph answers 401 to the listing, with a token in hand (alone: the fault is Graph-wide).
    for (let attempt = 0; attempt < 3; attempt++)
      harness.graph.faults.once({ path: /^\/v1\.0\/users$/, status: 401 });
    await run('graph-401', {});
    harness.graph.faults.clear();
    // 4. A certificate credential, with checkpoints kept in WordPress.
    await run(
      'certificate',
      {},
      {
        AZURE_CLIENT_SECRET: '',
        AZURE_CLIENT_CERTIFICATE_PATH: certificate,
        AZURE_CLIENT_CERTIFICATE_PASSWORD: certPassword,
      },
      {
        extra: {
          graph: {
            tenantId: testTenantId,
            clientId: certClientId,
            endpoint: certGraph.graphEndpoint,
            authorityHost: certGraph.authorityHost,
          },
          state: { backend: 'wordpress' },
        },
      },
    );

    outputs.push(...(await filesUnder(harness.directory, 'run directory')));
    for (const [index, raw] of mails.entries()) {
      const mail = await simpleParser(raw);
      outputs.push(
        { where: `email ${index + 1} as sent`, text: raw.toString('utf8') },
        { where: `email ${index + 1} text`, text: `${mail.subject}\n${mail.text}\n${mail.html || ''}` },
        ...mail.attachments.map((attachment) => ({
          where: `email ${index + 1} attachment ${attachment.filename}`,
          text: attachment.content.toString('utf8'),
        })),
      );
    }
    outputs.push({
      where: 'WordPress options of the sync (checkpoints, locks)',
      text: await sql(
        "SELECT option_name, option_value FROM wp_options WHERE option_name LIKE 'entra\\_wp\\_sync\\_%'",
      ),
    });
    outputs.push({
      where: 'WordPress user meta',
      text: await sql(
        "SELECT meta_key, meta_value FROM wp_usermeta WHERE meta_key <> '_application_passwords'",
      ),
    });

    const { adminUser, appPassword } = harness.site;
    secrets = [
      { name: 'the client secret', values: [testClientSecret] },
      { name: 'a wrong client secret', values: [wrongClientSecret] },
      {
        name: 'the WordPress application password',
        values: [appPassword, appPassword.replaceAll(' ', '')],
        extraForms: [Buffer.from(`${adminUser}:${appPassword}`).toString('base64').replace(/=+$/, '')],
      },
      {
        name: 'a wrong WordPress application password',
        values: [wrongAppPassword, wrongAppPassword.replaceAll(' ', '')],
        extraForms: [Buffer.from(`${adminUser}:${wrongAppPassword}`).toString('base64').replace(/=+$/, '')],
      },
      { name: 'the SMTP password', values: [smtpPassword] },
      { name: 'a wrong SMTP password', values: [wrongSmtpPassword] },
      { name: 'the certificate private key', values: [privateKeyBody.join(''), ...privateKeyBody] },
      { name: 'the encrypted certificate key', values: [...encryptedKeyBody] },
      { name: 'the certificate password', values: [certPassword] },
    ];
  }, 240_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await certGraph?.stop();
    await harness?.stop();
    if (keyDirectory) await rm(keyDirectory, { recursive: true, force: true });
  });

  it('ran each scenario as intended: success, refused passwords, Graph 401 and a certificate', () => {
    const code = (label: string) => runs.get(label)?.code;
    expect(code('success')).toBe(3);
    expect(code('json-logs')).toBe(3);
    expect(code('bad-wordpress-password')).toBe(1);
    expect(runs.get('bad-wordpress-password')?.stderr).toMatch(/application password/i);
    expect(code('wrong-client-secret')).toBe(1);
    expect(runs.get('wrong-client-secret')?.stderr).toContain('AADSTS7000215');
    expect(code('graph-401')).toBe(1);
    expect(code('certificate')).toBe(3);
    expect(runs.get('check')?.stdout).toMatch(/pass\s+staff: mail transport/);
    expect(runs.get('check with a wrong secret')?.stdout).toContain('AADSTS7000215');
    // The good runs mailed their summaries with the CSV; the refused SMTP password mailed nothing.
    expect(mails).toHaveLength(2);
    expect(runs.get('bad-wordpress-password')?.stderr).toContain('the summary email was not sent');
    // Every secret the runs were given is looked for below.
    expect(secrets.map((secret) => secret.name)).toEqual(secretNames);
    // A checkpoint was kept in each backend.
    expect(outputs.some((output) => output.where.startsWith('run directory/state/json-logs/'))).toBe(true);
    expect(outputs.find((output) => output.where.startsWith('WordPress options'))?.text).toContain(
      'entra_wp_sync_state_staff',
    );
    // Every run recorded itself in the site's run history, failed ones too: scanned with the rest.
    expect(outputs.find((output) => output.where.startsWith('WordPress options'))?.text).toContain(
      'entra_wp_sync_run_history',
    );
  });

  it.each(secretNames)('%s, as set, URL-encoded or base64', (name) => {
    const secret = secrets.find((candidate) => candidate.name === name)!;
    expect(outputs.length).toBeGreaterThan(20);
    expect(leaks(outputs, secret)).toEqual([]);
  });

  it('access tokens and client assertions issued during the runs (found by their shape)', () => {
    expect(tokenLeaks(outputs)).toEqual([]);
  });
});

describe('security: values placed in OData queries are escaped', () => {
  const salesGroup = "Sales & Marketing 'EMEA' #2";
  const roleGroup = "R&D 'Core' #1";
  const guestUpn = "d'arcy_fabrikam.com#EXT#@contoso.onmicrosoft.com";
  const darcy: FakeUser = {
    id: 'da2c0000-0000-4000-8000-00000000da01',
    userPrincipalName: guestUpn,
    mail: 'darcy@fabrikam.com',
    mailNickname: 'darcy',
    displayName: "Fitzwilliam D'Arcy",
    userType: 'Guest',
  };
  let harness: SyncHarness;
  let syncUser: CliResult;
  let fullRun: Awaited<ReturnType<SyncHarness['runJobs']>>;

  beforeAll(async () => {
    harness = await startSyncHarness([darcy, ...generateUsers(2, 5151)]);
    harness.graph.tenant.addGroup({
      id: 'aaaa0000-0000-4000-8000-00000000ee01',
      displayName: salesGroup,
      members: [darcy.id],
    });
    harness.graph.tenant.addGroup({
      id: 'aaaa0000-0000-4000-8000-00000000ee02',
      displayName: roleGroup,
      members: [darcy.id],
    });
    await harness.writeConfig({
      source: { groups: [salesGroup] },
      guests: 'include',
      map: { user_login: 'mailNickname' },
      roles: { rules: [{ group: roleGroup, role: 'editor' }] },
    });
    syncUser = await harness.run(['sync-user', guestUpn, '-c', harness.configPath]);
    fullRun = await harness.runJobs();
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it("sync-user finds a UPN with ' and # (the # percent-encoded, not cut off as a fragment)", async () => {
    expect(syncUser.code, syncUser.stderr).toBe(0);
    expect(syncUser.stdout).toContain('staff: 1 created');
    expect(harness.graph.requests.some((request) => request.path === `/v1.0/users/${guestUpn}`)).toBe(true);
    const users = (await harness.wordpressUsers()).filter(
      (user) => user.meta.entra_wp_sync_object_id === darcy.id,
    );
    expect(users.map((user) => [user.username, user.roles])).toEqual([['darcy', ['editor']]]);
  });

  it.each([
    ['a source group', salesGroup],
    ['a role group', roleGroup],
  ])("%s named with ', & and # is looked up with the quotes doubled and nothing cut", (_kind, name) => {
    const filters = harness.graph.requests
      .filter((request) => request.path === '/v1.0/groups')
      .map((request) => request.query.$filter);
    expect(filters).toContain(`displayName eq '${name.replaceAll("'", "''")}'`);
    expect(
      harness.graph.requests
        .filter((request) => request.path === '/v1.0/groups')
        .every((request) => request.status === 200),
    ).toBe(true);
  });

  it('a full run over those groups leaves the user as sync-user made them', () => {
    expect(fullRun.code).toBe(0);
    expect(fullRun.rows.filter((row) => row.objectId === darcy.id).map((row) => row.action)).toEqual([
      'unchanged',
    ]);
  });
});

describe('security: the companion plugin answers only accounts that may manage users', () => {
  let site: WordPressSite;
  let subscriber: { id: number; login: string; app: string };
  let target: number;
  const callers = () => ({
    anonymous: undefined,
    subscriber: basicAuth(subscriber.login, subscriber.app),
    editor: basicAuth(site.editorUser, site.editorAppPassword),
  });
  const knownRoutes: Array<[string, string]> = [
    ['GET', 'info'],
    ['GET', 'users'],
    ['POST', 'users/lookup'],
    ['GET', 'state/staff'],
    ['PUT', 'state/staff'],
    ['DELETE', 'state/staff'],
    ['POST', 'lock/staff'],
    ['DELETE', 'lock/staff'],
    ['POST', 'members'],
    ['DELETE', 'members/1'],
    ['GET', 'runs'],
    ['POST', 'runs'],
    ['GET', 'approvals'],
    ['DELETE', 'approvals'],
  ];
  const validParameters: Record<string, { body?: unknown; query?: string }> = {
    'POST members': { body: { id: 1, role: 'administrator' } },
    'DELETE members/1': { query: '?reassign=1' },
    'GET approvals': { query: '?job=staff' },
    'DELETE approvals': { query: '?job=staff&heldRunId=real-run' },
  };
  const protectedState = () =>
    sql(
      "SELECT option_name, option_value FROM wp_options WHERE option_name IN ('entra_wp_sync_state_staff', 'entra_wp_sync_lock_staff', 'entra_wp_sync_run_history', 'entra_wp_sync_site_approvals') ORDER BY option_name",
    );
  let stateBefore: string;

  async function call(method: string, route: string, authorization: string | undefined, body?: unknown) {
    const response = await fetch(`${site.restUrl}${route}`, {
      method,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body:
        method === 'GET' || method === 'DELETE'
          ? undefined
          : JSON.stringify(
              body ?? {
                checkpoint: { cursor: 'hijacked' },
                runId: 'intruder',
                emails: ['admin@example.test'],
              },
            ),
    });
    return { status: response.status, text: await response.text() };
  }

  beforeAll(async () => {
    site = await useWordPressSite();
    subscriber = JSON.parse(
      await runPhpOnSite(`
        $id = wp_insert_user(['user_login' => 'reader', 'user_email' => 'reader@contoso.com', 'user_pass' => 'Reader-Pass-42', 'role' => 'subscriber']);
        [$app] = WP_Application_Passwords::create_new_application_password($id, ['name' => 'test']);
        update_option('entra_wp_sync_allowed_meta_keys', ['department', '_secret', 'wp_capabilities', 'wp_user_level', 'session_tokens', 'entra_wp_sync_extra', 'wp_user-settings', 'first_name']);
        echo json_encode(['id' => $id, 'login' => 'reader', 'app' => $app]);
      `),
    ) as { id: number; login: string; app: string };
    target = subscriber.id;
    // A checkpoint and a lock, as a run leaves them, to see that nobody else can touch them.
    const admin = adminHeaders(site);
    await fetch(`${site.restUrl}entra-wp-sync/v1/state/staff`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ checkpoint: { cursor: 'page-3' }, runId: 'real-run' }),
    });
    await fetch(`${site.restUrl}entra-wp-sync/v1/lock/staff`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ runId: 'real-run', host: 'ci', startedAt: '2026-01-01T00:00:00Z' }),
    });
    stateBefore = await protectedState();
  });

  it.each(['anonymous', 'subscriber', 'editor'] as const)(
    'refuses %s callers on every route of entra-wp-sync/v1 the site lists, and writes nothing',
    async (caller) => {
      const index = (await (
        await fetch(`${site.restUrl}entra-wp-sync/v1`, { headers: adminHeaders(site) })
      ).json()) as { routes: Record<string, { methods: string[] }> };
      const routes = Object.entries(index.routes).filter(([route]) => route !== '/entra-wp-sync/v1');
      expect(routes.length).toBeGreaterThanOrEqual(5);
      const listed = routes.flatMap(([route, { methods }]) =>
        methods.map((method) => [
          method,
          route
            .replace('/entra-wp-sync/v1/', '')
            // A user id where the route takes digits, a job name elsewhere.
            .replace(/\(\?P<\w+>\\d\+\)/g, '1')
            .replace(/\(\?P<\w+>[^)]*\)/g, 'staff'),
        ]),
      );
      // Every route the plugin serves is in this suite's list, so a new one cannot slip by untested.
      for (const [method, route] of listed) expect(knownRoutes).toContainEqual([method, route]);
      const authorization = callers()[caller];
      for (const [method, route] of knownRoutes) {
        // WordPress checks a route's required parameters before its permission: send valid
        // ones, so the answer is the permission's.
        const valid = validParameters[`${method} ${route}`];
        const response = await call(
          method,
          `entra-wp-sync/v1/${route}${valid?.query ?? ''}`,
          authorization,
          valid?.body,
        );
        expect([method, route, response.status]).toEqual([method, route, caller === 'anonymous' ? 401 : 403]);
        expect(response.text).not.toMatch(/admin@example\.test|page-3|real-run/);
      }
      expect(await protectedState()).toBe(stateBefore);
    },
  );

  it('answers the administrator the sync signs in as (so the refusals above are not a broken route)', async () => {
    const response = await call('GET', 'entra-wp-sync/v1/state/staff', adminHeaders(site).authorization);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ checkpoint: { cursor: 'page-3' } });
  });

  it("refuses a subscriber's /batch/v1 request to create an administrator, item by item", async () => {
    const response = await call('POST', 'batch/v1', callers().subscriber, {
      requests: [
        {
          method: 'POST',
          path: '/wp/v2/users',
          body: {
            username: 'sneaky',
            email: 'sneaky@contoso.com',
            password: 'x-Long-Pass-1',
            roles: ['administrator'],
          },
        },
      ],
    });
    const body = JSON.parse(response.text) as { responses?: Array<{ status: number }> };
    expect(response.status === 207 ? body.responses?.map((item) => item.status) : [response.status]).toEqual([
      403,
    ]);
    expect(await sql("SELECT COUNT(*) FROM wp_users WHERE user_login = 'sneaky'")).toBe('0\n');
  });

  it.each([
    ['entra_wp_sync_object_id', '"00000000-0000-4000-8000-0000000000ad"'],
    ['entra_wp_sync_jobs', '["staff"]'],
    ['entra_wp_sync_status', '"disabled"'],
    ['entra_wp_sync_restore_roles', '["administrator"]'],
    ['entra_wp_sync_avatar_id', '1'],
  ])('refuses a subscriber writing the registered meta %s on their own profile', async (key, json) => {
    const before = await sql(
      `SELECT COUNT(*) FROM wp_usermeta WHERE user_id = ${target} AND meta_key = '${key}'`,
    );
    const response = await call('POST', 'wp/v2/users/me', callers().subscriber, {
      meta: { [key]: JSON.parse(json) },
    });
    expect(response.status).toBe(403);
    expect(
      await sql(`SELECT COUNT(*) FROM wp_usermeta WHERE user_id = ${target} AND meta_key = '${key}'`),
    ).toBe(before);
    const editor = await call('POST', `wp/v2/users/${target}`, callers().editor, {
      meta: { [key]: JSON.parse(json) },
    });
    expect(editor.status).toBe(403);
  });

  it.each([
    ['_secret', '"leak"'],
    ['wp_capabilities', '{"administrator": true}'],
    ['wp_user_level', '"10"'],
    ['session_tokens', '"forged"'],
    ['entra_wp_sync_extra', '"x"'],
    ['wp_user-settings', '"editor=html"'],
    ['first_name', '"Meta Bypass"'],
  ])('refuses the protected meta key %s as custom meta, even when the site lists it', async (key, json) => {
    const stored = () =>
      runPhpOnSite(`
        $user = get_userdata(${target});
        echo json_encode(['value' => get_user_meta(${target}, ${JSON.stringify(key).replaceAll('$', '\\$')}, true), 'roles' => $user->roles, 'level' => get_user_meta(${target}, 'wp_user_level', true)]);
      `);
    const before = await stored();
    const response = await call(
      'POST',
      `wp/v2/users/${target}?context=edit`,
      adminHeaders(site).authorization,
      {
        meta: { [key]: JSON.parse(json) },
      },
    );
    expect(response.status).toBeLessThan(500);
    expect(await stored()).toBe(before);
    const info = (await (
      await fetch(`${site.restUrl}entra-wp-sync/v1/info`, { headers: adminHeaders(site) })
    ).json()) as {
      allowedMetaKeys: string[];
    };
    expect(info.allowedMetaKeys).toEqual(['department']);
  });
});

describe('security: the sync and its allowed meta are shown to no one who may not edit users', () => {
  let site: WordPressSite;
  let author: number;
  let quiet: number;
  let contributor: string;
  const objectId = '0b7e5d0c-1f7e-4a3e-9d57-3f1f0c2f8aa1';
  const secretValues = [objectId, 'payroll-job', 'W/"photo-etag-1"', 'Secret Skunkworks'];

  beforeAll(async () => {
    site = await useWordPressSite();
    const created = JSON.parse(
      await runPhpOnSite(`
        update_option('entra_wp_sync_allowed_meta_keys', ['department']);
        $synced = function ($login, $role) {
          $id = wp_insert_user(['user_login' => $login, 'user_email' => "$login@contoso.com", 'user_pass' => wp_generate_password(), 'role' => $role]);
          update_user_meta($id, 'entra_wp_sync_object_id', '${objectId}');
          update_user_meta($id, 'entra_wp_sync_jobs', ['payroll-job']);
          update_user_meta($id, 'entra_wp_sync_status', 'active');
          update_user_meta($id, 'entra_wp_sync_photo_etag', 'W/"photo-etag-1"');
          update_user_meta($id, 'entra_wp_sync_avatar_id', 4242);
          update_user_meta($id, 'entra_wp_sync_restore_roles', ['editor']);
          update_user_meta($id, 'department', 'Secret Skunkworks');
          return $id;
        };
        $author = $synced('writer', 'author');
        wp_insert_post(['post_title' => 'Hello', 'post_status' => 'publish', 'post_author' => $author]);
        // Published nothing: listed to contributors all the same by ?who=authors.
        $quiet = $synced('quiet', 'editor');
        $contributor = wp_insert_user(['user_login' => 'helper', 'user_email' => 'helper@contoso.com', 'user_pass' => wp_generate_password(), 'role' => 'contributor']);
        [$app] = WP_Application_Passwords::create_new_application_password($contributor, ['name' => 'test']);
        echo json_encode(['author' => $author, 'quiet' => $quiet, 'app' => $app]);
      `),
    ) as { author: number; quiet: number; app: string };
    author = created.author;
    quiet = created.quiet;
    contributor = basicAuth('helper', created.app);
  });

  const shown = (text: string) =>
    [...secretValues, 'entra_wp_sync_', 'department'].filter((value) => text.includes(value));

  it('an anonymous visitor reading an author of a published post sees none of it', async () => {
    const response = await fetch(`${site.restUrl}wp/v2/users/${author}`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ id: author, slug: 'writer' });
    expect(shown(text)).toEqual([]);
  });

  it('a contributor listing everyone with ?who=authors sees none of it', async () => {
    const response = await fetch(`${site.restUrl}wp/v2/users?who=authors&per_page=100`, {
      headers: { authorization: contributor },
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect((JSON.parse(text) as Array<{ id: number }>).map((user) => user.id)).toEqual(
      expect.arrayContaining([author, quiet]),
    );
    expect(shown(text)).toEqual([]);
  });

  it('the administrator reading with context=edit still sees all of it', async () => {
    const response = await fetch(`${site.restUrl}wp/v2/users/${quiet}?context=edit`, {
      headers: adminHeaders(site),
    });
    expect(((await response.json()) as { meta: Record<string, unknown> }).meta).toMatchObject({
      entra_wp_sync_object_id: objectId,
      entra_wp_sync_jobs: ['payroll-job'],
      entra_wp_sync_status: 'active',
      entra_wp_sync_photo_etag: 'W/"photo-etag-1"',
      entra_wp_sync_avatar_id: 4242,
      entra_wp_sync_restore_roles: ['editor'],
      department: 'Secret Skunkworks',
    });
  });
});

describe('security: only an account that may also promote and delete users steers the sync', () => {
  let site: WordPressSite;
  let manager: string;
  let staffer: number;
  const state = () =>
    sql(
      "SELECT option_name, option_value FROM wp_options WHERE option_name IN ('entra_wp_sync_state_staff', 'entra_wp_sync_lock_staff') ORDER BY option_name",
    );
  const restoreRoles = () =>
    runPhpOnSite(`echo json_encode(get_user_meta(${staffer}, 'entra_wp_sync_restore_roles'));`);
  const call = async (method: string, route: string, authorization: string, body?: unknown) => {
    const response = await fetch(`${site.restUrl}${route}`, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { code?: string } };
  };
  const admin = () => adminHeaders(site).authorization!;
  let stateBefore: string;

  beforeAll(async () => {
    site = await useWordPressSite();
    const created = JSON.parse(
      await runPhpOnSite(`
        // Manages people, but may neither change roles nor delete accounts.
        add_role('user_manager', 'User manager', ['read' => true, 'list_users' => true, 'edit_users' => true, 'create_users' => true]);
        $manager = wp_insert_user(['user_login' => 'manager', 'user_email' => 'manager@contoso.com', 'user_pass' => wp_generate_password(), 'role' => 'user_manager']);
        [$app] = WP_Application_Passwords::create_new_application_password($manager, ['name' => 'test']);
        $staffer = wp_insert_user(['user_login' => 'staffer', 'user_email' => 'staffer@contoso.com', 'user_pass' => wp_generate_password(), 'role' => 'subscriber']);
        update_user_meta($staffer, 'entra_wp_sync_status', 'disabled');
        echo json_encode(['app' => $app, 'staffer' => $staffer]);
      `),
    ) as { app: string; staffer: number };
    manager = basicAuth('manager', created.app);
    staffer = created.staffer;
    await call('PUT', 'entra-wp-sync/v1/state/staff', admin(), {
      checkpoint: { cursor: 'page-3' },
      runId: 'real-run',
    });
    await call('POST', 'entra-wp-sync/v1/lock/staff', admin(), {
      runId: 'real-run',
      host: 'ci',
      startedAt: '2026-01-01T00:00:00Z',
    });
    stateBefore = await state();
  });

  it.each([
    ['GET', 'state/staff'],
    ['PUT', 'state/staff'],
    ['DELETE', 'state/staff'],
    ['POST', 'lock/staff'],
    ['DELETE', 'lock/staff'],
  ])('refuses %s %s to a user manager without promote_users and delete_users', async (method, route) => {
    const body = method === 'GET' ? undefined : { checkpoint: { cursor: 'hijacked' }, runId: 'real-run' };
    const response = await call(method, `entra-wp-sync/v1/${route}`, manager, body);
    expect([response.status, response.body.code]).toEqual([403, 'rest_forbidden']);
    expect(await state()).toBe(stateBefore);
    expect(stateBefore).toContain('page-3');
  });

  it.each([
    ['entra_wp_sync_restore_roles', ['administrator']],
    ['entra_wp_sync_status', 'active'],
  ])('refuses the user manager writing %s of a disabled account', async (key, value) => {
    const read = () => runPhpOnSite(`echo json_encode(get_user_meta(${staffer}, '${key}'));`);
    const before = await read();
    const response = await call('POST', `wp/v2/users/${staffer}`, manager, { meta: { [key]: value } });
    expect(response.status).toBe(403);
    expect(await read()).toBe(before);
  });

  it('lets the user manager write the rest of the sync meta, and the administrator the roles', async () => {
    const managed = await call('POST', `wp/v2/users/${staffer}`, manager, {
      meta: { entra_wp_sync_jobs: ['staff'] },
    });
    expect(managed.status).toBe(200);
    const response = await call('POST', `wp/v2/users/${staffer}`, admin(), {
      meta: { entra_wp_sync_restore_roles: ['administrator'] },
    });
    expect(response.status).toBe(200);
    expect(await restoreRoles()).toBe('[["administrator"]]');
  });

  it.each([
    ['PUT', 'state/staff', { checkpoint: { cursor: 'x' }, runId: ['real-run'] }],
    ['PUT', 'state/staff', { checkpoint: { cursor: 'x' }, runId: { id: 'real-run' } }],
    ['PUT', 'state/staff', { checkpoint: { cursor: 'x' }, runId: 'r'.repeat(201) }],
    ['PUT', 'state/staff', { checkpoint: 'cursor=x', runId: 'real-run' }],
    ['POST', 'lock/staff', { runId: { id: 'new-run' }, host: 'ci', startedAt: '2026-01-01T00:00:00Z' }],
    ['POST', 'lock/staff', { runId: 'new-run', host: ['ci'], startedAt: '2026-01-01T00:00:00Z' }],
    ['POST', 'lock/staff', { runId: 'new-run', host: 'ci', startedAt: { at: 0 } }],
    ['DELETE', 'lock/staff', { runId: ['real-run'] }],
  ])(
    'answers %s %s with %j by the administrator with 400 rest_invalid_param',
    async (method, route, body) => {
      const response = await call(method, `entra-wp-sync/v1/${route}`, admin(), body);
      expect([response.status, response.body.code]).toEqual([400, 'rest_invalid_param']);
      expect(await state()).toBe(stateBefore);
    },
  );

  it('answers the administrator on the state route (so the refusals above are not a broken route)', async () => {
    const response = await call('GET', 'entra-wp-sync/v1/state/staff', admin());
    expect(response).toEqual({ status: 200, body: { checkpoint: { cursor: 'page-3' } } });
  });
});

describe('security: a user the sync disabled gets in by none of the five ways in', () => {
  const leaver: FakeUser = {
    id: 'dead0000-0000-4000-8000-0000000000f1',
    userPrincipalName: 'leaver@contoso.com',
    mail: 'leaver@contoso.com',
    mailNickname: 'leaver',
    displayName: 'Lee Aver',
  };
  const password = 'Correct-Horse-42!';
  const testCookie = 'wordpress_test_cookie=WP%20Cookie%20check';
  let harness: SyncHarness;
  let site: WordPressSite;
  let userId: number;
  let applicationPassword: string;
  let cookies: string;
  let disabling: Awaited<ReturnType<SyncHarness['runJobs']>>;
  const before: Record<string, number> = {};

  const passwordLogin = (name: string) =>
    fetch(`${site.url}/wp-login.php`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie },
      body: new URLSearchParams({ log: name, pwd: password, 'wp-submit': 'Log In', testcookie: '1' }),
    });
  const applicationPasswordCall = () =>
    fetch(`${site.restUrl}wp/v2/users/me`, {
      headers: { authorization: basicAuth('leaver', applicationPassword) },
    });
  const sessionCall = () =>
    fetch(`${site.url}/wp-admin/profile.php`, { redirect: 'manual', headers: { cookie: cookies } });
  const passwordReset = (name: string) =>
    fetch(`${site.url}/wp-login.php?action=lostpassword`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie },
      body: new URLSearchParams({ user_login: name, 'wp-submit': 'Get New Password' }),
    });

  beforeAll(async () => {
    harness = await startSyncHarness([leaver, ...generateUsers(12, 5152)]);
    site = harness.site;
    // The username differs from the email, so that both ways of password login are tried.
    await harness.writeConfig({ actions: { delete: 'soft' }, map: { user_login: 'mailNickname' } });
    const created = await harness.runJobs();
    expect(created.code).toBe(0);
    const details = JSON.parse(
      await runPhpOnSite(`
        $user = get_user_by('login', 'leaver');
        wp_set_password(${JSON.stringify(password).replaceAll('$', '\\$')}, $user->ID);
        [$app] = WP_Application_Passwords::create_new_application_password($user->ID, ['name' => 'phone']);
        echo json_encode(['id' => $user->ID, 'app' => $app]);
      `),
    ) as { id: number; app: string };
    userId = details.id;
    applicationPassword = details.app;
    // Before: every way in works, so the refusals below are the plugin's doing.
    const login = await passwordLogin('leaver');
    before.login = login.status;
    cookies = login.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; ');
    before.email = (await passwordLogin('leaver@contoso.com')).status;
    before.applicationPassword = (await applicationPasswordCall()).status;
    before.session = (await sessionCall()).status;
    before.reset = (await passwordReset('leaver')).status;
    harness.graph.tenant.removeUser(leaver.id);
    disabling = await harness.runJobs();
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('could get in every way before, and the sync disabled them (roles removed and remembered)', async () => {
    expect(before).toEqual({ login: 302, email: 302, applicationPassword: 200, session: 200, reset: 302 });
    expect(disabling.code).toBe(0);
    expect(disabling.rows.filter((row) => row.objectId === leaver.id).map((row) => row.action)).toEqual([
      'disabled',
    ]);
    const [user] = (await harness.wordpressUsers()).filter((candidate) => candidate.id === userId);
    expect(user?.roles).toEqual([]);
    expect(user?.meta).toMatchObject({
      entra_wp_sync_status: 'disabled',
      entra_wp_sync_restore_roles: ['subscriber'],
    });
  });

  it.each([
    ['password login by username', 'leaver'],
    ['password login by email', 'leaver@contoso.com'],
  ])('%s is refused with the reason', async (_way, name) => {
    const response = await passwordLogin(name);
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie().some((cookie) => cookie.startsWith('wordpress_logged_in'))).toBe(
      false,
    );
    expect(await response.text()).toContain('This account has been disabled');
  });

  it('an application password is refused', async () => {
    const response = await applicationPasswordCall();
    expect(response.status).toBe(401);
  });

  it('the session cookie from before no longer works, and the sessions are gone', async () => {
    const response = await sessionCall();
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toContain('wp-login.php');
    expect(await runPhpOnSite(`echo count(WP_Session_Tokens::get_instance(${userId})->get_all());`)).toBe(
      '0',
    );
  });

  it('a password reset is refused', async () => {
    const response = await passwordReset('leaver');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Password reset is not allowed for this user');
  });
});

describe('security: disabling revokes every credential', () => {
  const leaver: FakeUser = {
    id: 'dead0000-0000-4000-8000-0000000000f2',
    userPrincipalName: 'quitter@contoso.com',
    mail: 'quitter@contoso.com',
    mailNickname: 'quitter',
    displayName: 'Quinn Itter',
  };
  const password = 'Old-Horse-Battery-42!';
  const newPassword = 'Taken-Over-Pass-77!';
  const testCookie = 'wordpress_test_cookie=WP%20Cookie%20check';
  let harness: SyncHarness;
  let site: WordPressSite;
  let userId: number;
  let applicationPassword: string;
  let resetKey: string;
  const before: Record<string, unknown> = {};

  const php = (code: string) => runPhpOnSite(code.replaceAll('USER_ID', String(userId)));
  const applicationPasswordCall = () =>
    fetch(`${site.restUrl}wp/v2/users/me`, {
      headers: { authorization: basicAuth('quitter', applicationPassword) },
    });
  /** What the user's password and reset key are now. */
  const stored = async () =>
    JSON.parse(
      await php(`
        $user = get_userdata(USER_ID);
        echo json_encode([
          'old' => wp_check_password(${JSON.stringify(password)}, $user->user_pass, USER_ID),
          'new' => wp_check_password(${JSON.stringify(newPassword)}, $user->user_pass, USER_ID),
          'key' => $user->user_activation_key,
        ]);
      `),
    ) as { old: boolean; new: boolean; key: string };

  /**
   * Follows a reset link through wp-login.php as a browser would: the link stores the
   * key in a cookie, then the form is posted with the new password. Returns the page
   * WordPress ends on.
   */
  async function resetThroughWpLogin(key: string) {
    const link = await fetch(
      `${site.url}/wp-login.php?action=rp&key=${encodeURIComponent(key)}&login=quitter`,
      { redirect: 'manual', headers: { cookie: testCookie } },
    );
    expect(link.status).toBe(302);
    const resetCookie = link.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .find((cookie) => cookie?.startsWith('wp-resetpass-'));
    expect(resetCookie).toBeDefined();
    const cookie = `${testCookie}; ${resetCookie}`;
    const form = await fetch(`${site.url}/wp-login.php?action=resetpass`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({
        pass1: newPassword,
        pass2: newPassword,
        rp_key: key,
        'wp-submit': 'Save Password',
      }),
    });
    return { status: form.status, url: form.url, text: await form.text() };
  }

  beforeAll(async () => {
    harness = await startSyncHarness([leaver, ...generateUsers(3, 5153)]);
    site = harness.site;
    await harness.writeConfig({ actions: { delete: 'soft' }, map: { user_login: 'mailNickname' } });
    expect((await harness.runJobs()).code).toBe(0);
    const details = JSON.parse(
      await runPhpOnSite(`
        $user = get_user_by('login', 'quitter');
        wp_set_password(${JSON.stringify(password)}, $user->ID);
        [$app] = WP_Application_Passwords::create_new_application_password($user->ID, ['name' => 'laptop']);
        // A reset link mailed before the person left, still unused.
        $key = get_password_reset_key(get_userdata($user->ID));
        echo json_encode(['id' => $user->ID, 'app' => $app, 'key' => $key]);
      `),
    ) as { id: number; app: string; key: string };
    userId = details.id;
    applicationPassword = details.app;
    resetKey = details.key;
    // Before: the application password and the reset key work.
    before.applicationPassword = (await applicationPasswordCall()).status;
    before.keyValid = await php(
      `echo check_password_reset_key(${JSON.stringify(resetKey)}, 'quitter') instanceof WP_User ? 'valid' : 'invalid';`,
    );
    harness.graph.tenant.removeUser(leaver.id);
    const disabling = await harness.runJobs();
    before.disabled = disabling.rows.filter((row) => row.objectId === leaver.id).map((row) => row.action);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('had a working application password and reset key, and the sync disabled the user', () => {
    expect(before).toEqual({ applicationPassword: 200, keyValid: 'valid', disabled: ['disabled'] });
  });

  it('a reset link issued before the disable sets no password afterwards, and the key is gone', async () => {
    const page = await resetThroughWpLogin(resetKey);
    expect(page.status).toBe(200);
    expect(page.url).toContain('error=invalidkey');
    expect(page.text).toContain('Your password reset link appears to be invalid');
    expect(page.text).not.toContain('Your password has been reset');
    expect(await stored()).toEqual({ old: true, new: false, key: '' });
    expect(
      await php(
        `echo is_wp_error(check_password_reset_key(${JSON.stringify(resetKey)}, 'quitter')) ? 'refused' : 'accepted';`,
      ),
    ).toBe('refused');
  });

  it('a reset key put back in the database after the disable sets no password either', async () => {
    // As a database restore or a plugin writing keys itself would leave one: core's format, no allow_password_reset.
    const key = 'KeptKey0123456789abc';
    await php(`
      global $wpdb;
      require_once ABSPATH . WPINC . '/class-phpass.php';
      $hash = time() . ':' . (new PasswordHash(8, true))->HashPassword('${key}');
      $wpdb->update($wpdb->users, ['user_activation_key' => $hash], ['ID' => USER_ID]);
      clean_user_cache(USER_ID);
      echo 'ok';
    `);
    const page = await resetThroughWpLogin(key);
    expect(page.status).toBe(200);
    expect(page.text).toContain('This account has been disabled');
    expect(page.text).not.toContain('Your password has been reset');
    expect((await stored()).new).toBe(false);
    // A reset form of a theme or shop ends in reset_password(): it stops there too.
    const other = await php(
      `reset_password(get_userdata(USER_ID), ${JSON.stringify(newPassword)}); echo 'password was reset';`,
    );
    expect(other).not.toContain('password was reset');
    expect(other).toContain('This account has been disabled');
    expect(await stored()).toMatchObject({ old: true, new: false });
  });

  it('the application passwords are deleted, and still refused once the user is back', async () => {
    expect(await php('echo count(WP_Application_Passwords::get_user_application_passwords(USER_ID));')).toBe(
      '0',
    );
    harness.graph.tenant.restoreUser(leaver.id);
    const back = await harness.runJobs();
    expect(back.rows.filter((row) => row.objectId === leaver.id).map((row) => row.action)).toEqual([
      'restored',
    ]);
    // Back in: the password still signs in, so the 401 below is the revocation, not the disable.
    const login = await fetch(`${site.url}/wp-login.php`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie },
      body: new URLSearchParams({ log: 'quitter', pwd: password, 'wp-submit': 'Log In', testcookie: '1' }),
    });
    expect(login.status).toBe(302);
    expect((await applicationPasswordCall()).status).toBe(401);
  });
});
