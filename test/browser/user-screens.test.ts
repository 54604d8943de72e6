// What administrators see of each person's sync status in wp-admin, in a real browser:
// the Users list's "Entra ID" column and "Disabled by Entra sync" view, and the profile
// screen's Entra ID box with a note under each field the sync overwrites.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { launchBrowser, logIn, screenshot, type TestBrowser } from '../support/browser.ts';
import { type SyncHarness, startSyncHarness, type WordPressRestUser } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness;
let browser: TestBrowser;
let admin: Page;
let people: FakeUser[];
let leavers: FakeUser[];
let users: WordPressRestUser[];

const wordpressIdOf = (person: FakeUser) => {
  const user = users.find((each) => each.meta.entra_wp_sync_object_id === person.id);
  if (!user) throw new Error(`${person.userPrincipalName} is not in WordPress`);
  return user.id;
};
const columnText = async (page: Page, userId: number) =>
  (await page.locator(`#user-${userId} td.column-entra_wp_sync span`).allTextContents()).join(' ');

beforeAll(async () => {
  people = generateUsers(6, 71);
  leavers = [people[4]!, people[5]!];
  harness = await startSyncHarness(people);
  await harness.writeConfig({ actions: { delete: 'soft' } });
  expect((await harness.runJobs()).code).toBe(0);
  for (const leaver of leavers) harness.graph.tenant.removeUser(leaver.id);
  const second = await harness.runJobs();
  expect(
    second.rows
      .filter((row) => row.action === 'disabled')
      .map((row) => row.objectId)
      .sort(),
  ).toEqual(leavers.map((leaver) => leaver.id).sort());
  users = await harness.wordpressUsers();
  browser = await launchBrowser();
  admin = await browser.newPage();
  await logIn(admin, harness.site.url, harness.site.adminUser, harness.site.adminPassword);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
});

describe('the Users list in wp-admin', () => {
  it('shows each person as synced, disabled by the sync or not managed, with the job', async () => {
    await admin.goto(`${harness.site.url}/wp-admin/users.php`);
    await expect.poll(() => admin.locator('th#entra_wp_sync').textContent()).toBe('Entra ID');
    expect(await columnText(admin, wordpressIdOf(people[0]!))).toBe('Synced Job: staff');
    expect(await columnText(admin, wordpressIdOf(leavers[0]!))).toBe('Disabled by the sync Job: staff');
    const localAdmin = users.find((user) => user.username === harness.site.adminUser)!;
    expect(await columnText(admin, localAdmin.id)).toBe('Not managed');
    await screenshot(admin, 'users-list');
  });

  it('has a "Disabled by Entra sync" view with their count that lists exactly them', async () => {
    await admin.goto(`${harness.site.url}/wp-admin/users.php`);
    const view = admin.locator('.subsubsub li.entra_wp_sync_disabled a');
    expect((await view.textContent())?.trim()).toBe('Disabled by Entra sync (2)');
    await view.click();
    await admin.waitForURL(/entra_wp_sync_status=disabled/);
    const listed = await admin.locator('#the-list tr').evaluateAll((rows) => rows.map((row) => row.id));
    expect(listed.sort()).toEqual(leavers.map((leaver) => `user-${wordpressIdOf(leaver)}`).sort());
    expect(await admin.locator('.subsubsub a.current').allTextContents()).toEqual([
      'Disabled by Entra sync (2)',
    ]);
    await screenshot(admin, 'users-disabled-view');
  });
});

describe('the profile screen in wp-admin', () => {
  it('shows the object ID, the job, when the sync last changed the account and the fields it sets', async () => {
    const person = people[1]!;
    const id = wordpressIdOf(person);
    const changedAt = await runPhpOnSite(`
      $at = (int) get_user_meta(${id}, '_entra_wp_sync_changed_at', true);
      echo $at > 0 ? wp_date(get_option('date_format') . ' ' . get_option('time_format'), $at) : 'none';
    `);
    expect(changedAt).not.toBe('none');
    await admin.goto(`${harness.site.url}/wp-admin/user-edit.php?user_id=${id}`);
    const box = admin.locator('table.entra-wp-sync-profile');
    expect(await admin.locator('h2#entra-wp-sync-profile').textContent()).toBe('Entra ID');
    expect(await box.locator('code.entra-wp-sync-object-id').textContent()).toBe(person.id);
    const text = await box.textContent();
    expect(text).toContain('Synced');
    expect(text).toContain('Job staff');
    expect(text).toContain(changedAt);
    expect(text).toContain('Email, First Name, Last Name, Display name, Nickname, Role');
    const notes = await admin
      .locator('p.entra-wp-sync-managed')
      .evaluateAll((found) => found.map((note) => note.getAttribute('data-entra-wp-sync-field')));
    expect(notes.sort()).toEqual(['display_name', 'email', 'first_name', 'last_name', 'nickname', 'role']);
    // The note sits under its own input, and a field the job does not map (website) has none.
    expect(await admin.locator('#first_name ~ p.entra-wp-sync-managed').count()).toBe(1);
    expect(await admin.locator('#url ~ p.entra-wp-sync-managed').count()).toBe(0);
    await screenshot(admin, 'profile-box');
  });

  it('means what it says: a local edit of a managed field is overwritten at the next run, and is not a sync change', async () => {
    const person = people[2]!;
    const id = wordpressIdOf(person);
    const changedAt = () => runPhpOnSite(`echo get_user_meta(${id}, '_entra_wp_sync_changed_at', true);`);
    const before = await changedAt();
    await admin.goto(`${harness.site.url}/wp-admin/user-edit.php?user_id=${id}`);
    await admin.fill('#first_name', 'Locally-edited');
    await Promise.all([admin.waitForURL(/updated=1/), admin.click('#submit')]);
    expect(await admin.inputValue('#first_name')).toBe('Locally-edited');
    expect(await changedAt()).toBe(before);
    const run = await harness.runJobs();
    expect(run.rows.find((row) => row.objectId === person.id)).toMatchObject({ action: 'updated' });
    await admin.goto(`${harness.site.url}/wp-admin/user-edit.php?user_id=${id}`);
    expect(await admin.inputValue('#first_name')).toBe(person.givenName);
    expect(Number(await changedAt())).toBeGreaterThan(Number(before));
  });

  it('shows nothing of it to someone who may not edit users, on their own profile', async () => {
    const editor = users.find((user) => user.username === harness.site.editorUser)!;
    // Managed by the job as far as the meta says, so only the capability check hides the box.
    await runPhpOnSite(`
      update_user_meta(${editor.id}, 'entra_wp_sync_jobs', ['staff']);
      update_user_meta(${editor.id}, 'entra_wp_sync_object_id', '${people[0]!.id}');
      update_user_meta(${editor.id}, 'entra_wp_sync_managed_fields', ['staff:first_name']);
      echo 'ok';
    `);
    const page = await browser.newPage();
    await logIn(page, harness.site.url, harness.site.editorUser, harness.site.editorPassword);
    await page.goto(`${harness.site.url}/wp-admin/profile.php`);
    await expect.poll(() => page.locator('#first_name').count()).toBe(1);
    expect(
      await page
        .locator('#entra-wp-sync-profile, table.entra-wp-sync-profile, p.entra-wp-sync-managed')
        .count(),
    ).toBe(0);
    await page.context().close();
  });
});
