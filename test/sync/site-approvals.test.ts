// A held list approved from the site: an administrator reviews the held removals or
// adoptions under Users → Entra ID sync and approves exactly that list; the next run (the
// real CLI, against the real WordPress) applies it if its held list is still that one, names
// the approver, and the approval is used once. Forms are posted as a browser would, with the
// session cookies of a real sign-in and the nonce the screen gave.
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type JobsRun, type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { adminHeaders, runPhpOnSite, type WordPressSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const run = (extra: string[] = []) => harness!.runJobs(extra);
const rowsWith = (result: JobsRun, action: string) => result.rows.filter((row) => row.action === action);
const objectIds = (rows: Array<Record<string, unknown>>) => rows.map((row) => String(row.objectId)).sort();
const ids = (people: FakeUser[]) => people.map((person) => person.id).sort();
/** summary.md as it reads, without the Markdown escapes. */
const plain = (markdown: string) => markdown.replace(/\\(.)/g, '$1');

const screenPath = '/wp-admin/users.php?page=entra-wp-sync&job=staff';
const testCookie = 'wordpress_test_cookie=WP%20Cookie%20check';

/** A browser's session: the cookies a password sign-in at wp-login.php sets. */
async function signIn(site: WordPressSite, login: string, password: string): Promise<string> {
  const response = await fetch(`${site.url}/wp-login.php`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie },
    body: new URLSearchParams({ log: login, pwd: password, 'wp-submit': 'Log In', testcookie: '1' }),
  });
  expect(response.status).toBe(302);
  return [testCookie, ...response.headers.getSetCookie().map((cookie) => cookie.split(';')[0])].join('; ');
}

async function screen(site: WordPressSite, cookies: string, path = screenPath) {
  const response = await fetch(`${site.url}${path}`, { headers: { cookie: cookies }, redirect: 'manual' });
  return { status: response.status, html: await response.text() };
}

const decode = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The fields a browser would post from the form with this id (its hidden inputs), or undefined. */
function formFields(html: string, formId: string): URLSearchParams | undefined {
  const form = new RegExp(`<form\\b[^>]*\\bid="${formId}"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  if (!form) return undefined;
  const fields = new URLSearchParams();
  for (const [input] of form[1]!.matchAll(/<input\b[^>]*>/g)) {
    if (!/type="hidden"/.test(input)) continue;
    const name = /\bname="([^"]*)"/.exec(input)?.[1];
    if (name) fields.append(decode(name), decode(/\bvalue="([^"]*)"/.exec(input)?.[1] ?? ''));
  }
  return fields;
}

/** Posts to admin-post.php as the browser with these cookies would. */
async function post(site: WordPressSite, cookies: string, fields: URLSearchParams) {
  const response = await fetch(`${site.url}/wp-admin/admin-post.php`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: cookies,
      referer: `${site.url}${screenPath}`,
    },
    body: fields,
  });
  return {
    status: response.status,
    location: response.headers.get('location') ?? '',
    text: await response.text(),
  };
}

interface StoredApproval {
  heldRunId: string;
  removals: number[];
  adoptions: Array<{ objectId: string; wordpressId: number }>;
  by: string;
}

/** What the sync reads at the start of a run. */
async function storedApproval(site: WordPressSite): Promise<StoredApproval | null> {
  const response = await fetch(`${site.restUrl}entra-wp-sync/v1/approvals?job=staff`, {
    headers: adminHeaders(site),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { approval: StoredApproval | null }).approval;
}

/** Posts the form with this id as the site's administrator; the screen's notice after it. */
async function approveAsAdmin(formId: string): Promise<string> {
  const site = harness!.site;
  const cookies = await signIn(site, site.adminUser, site.adminPassword);
  const fields = formFields((await screen(site, cookies)).html, formId);
  expect(fields, `the screen has no form #${formId}`).toBeDefined();
  const posted = await post(site, cookies, fields!);
  expect(posted.status).toBe(302);
  const back = new URL(posted.location, site.url);
  const after = await screen(site, cookies, back.pathname + back.search);
  return /<div[^>]*id="entra-wp-sync-approval-notice"[^>]*>([\s\S]*?)<\/div>/.exec(after.html)?.[1] ?? '';
}

async function syncedTenant(count: number, seed: number) {
  const people = generateUsers(count, seed);
  harness = await startSyncHarness(people);
  await harness.writeConfig({ actions: { delete: 'soft' }, safety: { maxDeletes: 2 } });
  expect((await run()).code).toBe(0);
  return people;
}

/** A run that holds the removal of these people (more than maxDeletes allows). */
async function heldRemovals(people: FakeUser[]): Promise<JobsRun> {
  for (const person of people) harness!.graph.tenant.removeUser(person.id);
  const held = await run();
  expect(held.code).toBe(4);
  expect(objectIds(rowsWith(held, 'held'))).toEqual(ids(people));
  return held;
}

describe('approving held removals in wp-admin', () => {
  it('lists each held person; the approval is stored for that run, the next run removes exactly them naming the approver, and it is used once', async () => {
    const people = await syncedTenant(20, 81);
    const leavers = people.slice(0, 4);
    const held = await heldRemovals(leavers);
    const heldRows = rowsWith(held, 'held');
    const site = harness!.site;

    const cookies = await signIn(site, site.adminUser, site.adminPassword);
    const { html } = await screen(site, cookies);
    const table =
      /<table[^>]*id="entra-wp-sync-held-removals-staff"[^>]*>([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    for (const row of heldRows) {
      expect(table).toContain(`user-edit.php?user_id=${row.wordpressId}`);
      expect(table).toContain(`${row.wordpressLogin} (#${row.wordpressId})`);
      expect(table).toContain(String(row.userPrincipalName || row.email));
    }

    const notice = await approveAsAdmin('entra-wp-sync-approve-removals-staff');
    expect(notice).toContain(`Approved 4 held removals of job staff (run ${held.rows[0]!.runId})`);
    const stored = await storedApproval(site);
    expect(stored).toMatchObject({ heldRunId: held.rows[0]!.runId, by: site.adminUser, adoptions: [] });
    expect([...stored!.removals].sort()).toEqual(heldRows.map((row) => Number(row.wordpressId)).sort());

    const approved = await run();
    expect(approved.code).toBe(0);
    const disabled = rowsWith(approved, 'disabled');
    expect(objectIds(disabled)).toEqual(ids(leavers));
    for (const row of disabled)
      expect(String(row.message)).toContain(`approved by ${site.adminUser} (in wp-admin)`);
    expect(plain(approved.summary)).toContain(
      `Applied the held list approved by ${site.adminUser} (in wp-admin).`,
    );

    // Used once: gone from the site, and the screen holds nothing more to approve.
    expect(await storedApproval(site)).toBeNull();
    expect((await screen(site, cookies)).html).not.toContain('entra-wp-sync-approve-removals-staff');
  });

  it('when more people left after the approval, the next run removes no one, holds the new list and says the approval no longer matches', async () => {
    const people = await syncedTenant(20, 82);
    const held = await heldRemovals(people.slice(0, 4));
    await approveAsAdmin('entra-wp-sync-approve-removals-staff');
    harness!.graph.tenant.removeUser(people[4]!.id);

    const again = await run();
    expect(again.code).toBe(4);
    expect(rowsWith(again, 'disabled')).toEqual([]);
    expect(objectIds(rowsWith(again, 'held'))).toEqual(ids(people.slice(0, 5)));
    expect(plain(again.summary)).toContain(
      `The removals approved by ${harness!.site.adminUser} (in wp-admin) no longer match: this run would also remove 1 users not on that list`,
    );
    // The approval named a list that is no longer held: it is gone, and the new list waits.
    expect(await storedApproval(harness!.site)).toBeNull();
    const site = harness!.site;
    const fields = formFields(
      (await screen(site, await signIn(site, site.adminUser, site.adminPassword))).html,
      'entra-wp-sync-approve-removals-staff',
    );
    expect(fields?.get('held_run_id')).toBe(again.rows[0]!.runId);
    expect(fields?.get('held_run_id')).not.toBe(held.rows[0]!.runId);
    expect(fields?.getAll('users[]')).toHaveLength(5);
  });

  it('an approval withdrawn before the next run approves nothing: the run holds the list again', async () => {
    const people = await syncedTenant(15, 86);
    await heldRemovals(people.slice(0, 3));
    await approveAsAdmin('entra-wp-sync-approve-removals-staff');
    expect(await storedApproval(harness!.site)).not.toBeNull();

    const notice = await approveAsAdmin('entra-wp-sync-withdraw-removals-staff');
    expect(notice).toContain('The approval was withdrawn');
    expect(await storedApproval(harness!.site)).toBeNull();
    const next = await run();
    expect(next.code).toBe(4);
    expect(rowsWith(next, 'disabled')).toEqual([]);
  });

  it('an editor cannot approve: refused, nothing stored, no one removed', async () => {
    const people = await syncedTenant(15, 83);
    await heldRemovals(people.slice(0, 3));
    const site = harness!.site;
    const admin = await signIn(site, site.adminUser, site.adminPassword);
    const fields = formFields((await screen(site, admin)).html, 'entra-wp-sync-approve-removals-staff')!;

    const editor = await signIn(site, site.editorUser, site.editorPassword);
    expect((await screen(site, editor)).status).toBe(403);
    const refused = await post(site, editor, fields);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('not allowed to approve held removals');
    expect(await storedApproval(site)).toBeNull();
    const next = await run();
    expect(next.code).toBe(4);
    expect(rowsWith(next, 'disabled')).toEqual([]);
  });

  it('an administrator’s request without the screen’s nonce is refused and stores nothing', async () => {
    const people = await syncedTenant(15, 84);
    await heldRemovals(people.slice(0, 3));
    const site = harness!.site;
    const cookies = await signIn(site, site.adminUser, site.adminPassword);
    const fields = formFields((await screen(site, cookies)).html, 'entra-wp-sync-approve-removals-staff')!;

    const forged = new URLSearchParams(fields);
    forged.set('_wpnonce', 'f0f0f0f0f0');
    expect((await post(site, cookies, forged)).status).toBe(403);
    forged.delete('_wpnonce');
    expect((await post(site, cookies, forged)).status).toBe(403);
    expect(await storedApproval(site)).toBeNull();
  });

  it('a user who may edit but not delete users sees the list but no approve form, and the handler refuses them', async () => {
    const people = await syncedTenant(15, 85);
    await heldRemovals(people.slice(0, 3));
    const site = harness!.site;
    await runPhpOnSite(`
      add_role('user_manager', 'User manager', ['read' => true, 'list_users' => true, 'edit_users' => true, 'promote_users' => true]);
      wp_insert_user(['user_login' => 'manager', 'user_pass' => 'Manager-Pass-42', 'user_email' => 'manager@example.net', 'role' => 'user_manager']);
    `);
    const admin = await signIn(site, site.adminUser, site.adminPassword);
    const fields = formFields((await screen(site, admin)).html, 'entra-wp-sync-approve-removals-staff')!;

    const manager = await signIn(site, 'manager', 'Manager-Pass-42');
    const { status, html } = await screen(site, manager);
    expect(status).toBe(200);
    expect(html).toContain('entra-wp-sync-held-removals-staff');
    expect(html).not.toContain('id="entra-wp-sync-approve-removals-staff"');
    expect(html).toContain('An administrator who may delete users can approve these removals.');
    const refused = await post(site, manager, fields);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('not allowed to approve held removals');
    expect(await storedApproval(site)).toBeNull();
  });
});

function person(n: number, name: string): FakeUser {
  return {
    id: `a99e0000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
    userPrincipalName: `${name}@contoso.com`,
    mail: `${name}@contoso.com`,
    displayName: name,
  };
}

/** An account registered on the site after the job began managing it: matching it needs approval. */
async function registerAccount(login: string, email: string): Promise<number> {
  return Number(
    await runPhpOnSite(
      `echo wp_insert_user(['user_login' => ${JSON.stringify(login)}, 'user_email' => ${JSON.stringify(email)}, 'user_pass' => 'Member-Pass-42', 'role' => 'subscriber']);`,
    ),
  );
}

async function rolesOf(id: number): Promise<string[]> {
  return JSON.parse(await runPhpOnSite(`echo json_encode(get_userdata(${id})->roles);`)) as string[];
}

describe('approving held adoptions in wp-admin', () => {
  /** A joiner whose email an account registered after the job's first run already has. */
  async function heldAdoption(joiner: FakeUser, login: string) {
    const account = await registerAccount(login, String(joiner.mail));
    harness!.graph.tenant.addUser(joiner);
    const held = await run();
    expect(held.code).toBe(4);
    expect(rowsWith(held, 'held').map((row) => [row.objectId, row.wordpressId])).toEqual([
      [joiner.id, account],
    ]);
    return { account, held };
  }

  async function syncedStaff() {
    harness = await startSyncHarness([person(1, 'ann')]);
    await harness.writeConfig({ map: { user_login: 'userPrincipalName' }, roles: { default: 'editor' } });
    expect((await run()).code).toBe(0);
  }

  it('lists the account and the Entra user; once approved, the next run links exactly that pair naming the approver', async () => {
    await syncedStaff();
    const joiner = person(2, 'bea');
    const { account, held } = await heldAdoption(joiner, 'bea.local');
    const site = harness!.site;

    const { html } = await screen(site, await signIn(site, site.adminUser, site.adminPassword));
    const table =
      /<table[^>]*id="entra-wp-sync-held-adoptions-staff"[^>]*>([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    expect(table).toContain(`user-edit.php?user_id=${account}`);
    expect(table).toContain(`bea.local (#${account})`);
    expect(table).toContain(joiner.userPrincipalName);
    expect(table).toContain(joiner.id);

    const notice = await approveAsAdmin('entra-wp-sync-approve-adoptions-staff');
    expect(notice).toContain(`Approved 1 held adoption of job staff (run ${held.rows[0]!.runId})`);
    expect(await storedApproval(site)).toMatchObject({
      heldRunId: held.rows[0]!.runId,
      removals: [],
      adoptions: [{ objectId: joiner.id, wordpressId: account }],
    });

    const approved = await run();
    expect(approved.code).toBe(0);
    const adopted = rowsWith(approved, 'adopted');
    expect(adopted.map((row) => [row.objectId, row.wordpressId])).toEqual([[joiner.id, account]]);
    expect(String(adopted[0]!.message)).toContain(`approved by ${site.adminUser} (in wp-admin)`);
    expect(await rolesOf(account)).toEqual(['editor']);
    expect(await storedApproval(site)).toBeNull();
  });

  it('a joiner held after the approval is held again, and the summary says the approval does not name them', async () => {
    await syncedStaff();
    const { account } = await heldAdoption(person(2, 'bea'), 'bea.local');
    await approveAsAdmin('entra-wp-sync-approve-adoptions-staff');
    const late = person(3, 'cid');
    const lateAccount = await registerAccount('cid.local', String(late.mail));
    harness!.graph.tenant.addUser(late);

    const next = await run();
    expect(next.code).toBe(4);
    expect(rowsWith(next, 'adopted').map((row) => row.wordpressId)).toEqual([account]);
    expect(rowsWith(next, 'held').map((row) => [row.objectId, row.wordpressId])).toEqual([
      [late.id, lateAccount],
    ]);
    expect(plain(next.summary)).toContain(
      `The adoptions approved by ${harness!.site.adminUser} (in wp-admin) do not name 1 more accounts this run matched (cid.local), so those are held`,
    );
    expect(await rolesOf(lateAccount)).toEqual(['subscriber']);
  });

  it('an editor, a forged request and a user who may not promote users cannot approve adoptions', async () => {
    await syncedStaff();
    const { account } = await heldAdoption(person(2, 'bea'), 'bea.local');
    const site = harness!.site;
    const admin = await signIn(site, site.adminUser, site.adminPassword);
    const fields = formFields((await screen(site, admin)).html, 'entra-wp-sync-approve-adoptions-staff')!;

    const editor = await signIn(site, site.editorUser, site.editorPassword);
    const refused = await post(site, editor, fields);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('not allowed to approve held adoptions');

    const forged = new URLSearchParams(fields);
    forged.set('_wpnonce', 'f0f0f0f0f0');
    expect((await post(site, admin, forged)).status).toBe(403);

    await runPhpOnSite(`
      add_role('user_editor', 'User editor', ['read' => true, 'list_users' => true, 'edit_users' => true, 'delete_users' => true]);
      wp_insert_user(['user_login' => 'useredit', 'user_pass' => 'Useredit-Pass-42', 'user_email' => 'useredit@example.net', 'role' => 'user_editor']);
    `);
    const noPromote = await signIn(site, 'useredit', 'Useredit-Pass-42');
    expect((await screen(site, noPromote)).html).toContain(
      'An administrator who may promote users can approve these adoptions.',
    );
    const notPromoted = await post(site, noPromote, fields);
    expect(notPromoted.status).toBe(403);
    expect(notPromoted.text).toContain('not allowed to approve held adoptions');

    expect(await storedApproval(site)).toBeNull();
    expect((await run()).code).toBe(4);
    expect(await rolesOf(account)).toEqual(['subscriber']);
  });
});
