// Users → Entra ID sync in a real browser: an administrator sees the last run's counts and
// the users it could not sync, approves a held list with the screen's own form, and the
// next run applies exactly that list; an editor gets neither the screen nor the approval.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { launchBrowser, logIn, screenshot, type TestBrowser } from '../support/browser.ts';
import { type JobsRun, type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness;
let browser: TestBrowser;
let admin: Page;
let people: FakeUser[];
let first: JobsRun;

const screenUrl = () => `${harness.site.url}/wp-admin/users.php?page=entra-wp-sync`;
const job = (page: Page) => page.locator('.entra-wp-sync-job[data-job="staff"]');
const rowsWith = (run: JobsRun, action: string) => run.rows.filter((row) => row.action === action);
const cellOf = (page: Page, count: string) =>
  job(page).locator(`table.entra-wp-sync-counts tr[data-count="${count}"] td`).textContent();

beforeAll(async () => {
  people = generateUsers(8, 91);
  // WordPress takes no address with an accent: this one cannot be synced.
  people[7] = { ...people[7]!, mail: 'jörg.müller@contoso.com' };
  harness = await startSyncHarness(people);
  await harness.writeConfig({ actions: { delete: 'soft' }, safety: { maxDeletes: 1 } });
  first = await harness.runJobs();
  expect(first.code).toBe(3);
  browser = await launchBrowser();
  admin = await browser.newPage();
  await logIn(admin, harness.site.url, harness.site.adminUser, harness.site.adminPassword);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
});

describe('Users → Entra ID sync', () => {
  it("shows the last run's counts and the users it could not sync, with the reason", async () => {
    await admin.goto(screenUrl());
    expect(await admin.locator('h1').first().textContent()).toContain('Entra ID sync');
    expect(await cellOf(admin, 'created')).toBe(String(rowsWith(first, 'created').length));
    const failed = rowsWith(first, 'failed');
    expect(failed).toHaveLength(1);
    expect(await cellOf(admin, 'failed')).toBe('1');
    const errors = job(admin).locator('.entra-wp-sync-errors tr.entra-wp-sync-error');
    expect(await errors.count()).toBe(1);
    const errorText = await errors.first().textContent();
    expect(errorText).toContain(people[7]!.userPrincipalName);
    expect(errorText).toContain('is not an email address WordPress accepts');
    await screenshot(admin, 'admin-screen-last-run');
  });

  it('approves a held list with its form, and the next run applies exactly that list', async () => {
    const leavers = people.slice(0, 3);
    for (const leaver of leavers) harness.graph.tenant.removeUser(leaver.id);
    const held = await harness.runJobs();
    expect(held.code).toBe(4);
    const heldIds = rowsWith(held, 'held').map((row) => Number(row.wordpressId));
    expect(heldIds).toHaveLength(3);

    await admin.goto(screenUrl());
    const listed = await admin
      .locator('#entra-wp-sync-held-removals-staff tr[data-user-id]')
      .evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-user-id'))));
    expect(listed.sort()).toEqual([...heldIds].sort());
    await screenshot(admin, 'admin-screen-held');
    await Promise.all([
      admin.waitForURL(/page=entra-wp-sync/),
      admin.click('#entra-wp-sync-approve-removals-staff-submit'),
    ]);
    expect(await admin.locator('#entra-wp-sync-approval-notice').textContent()).toContain(
      'Approved 3 held removals',
    );
    expect(await admin.locator('#entra-wp-sync-approved-removals-staff').textContent()).toContain(
      `Approved by ${harness.site.adminUser}`,
    );

    const applied = await harness.runJobs();
    expect(applied.code).toBe(3); // the user with the accented address still fails
    expect(
      rowsWith(applied, 'disabled')
        .map((row) => row.objectId)
        .sort(),
    ).toEqual(leavers.map((leaver) => leaver.id).sort());
    await admin.goto(screenUrl());
    expect(await cellOf(admin, 'disabled')).toBe('3');
    expect(await job(admin).locator('.entra-wp-sync-approved-by').textContent()).toContain(
      harness.site.adminUser,
    );
    expect(await admin.locator('#entra-wp-sync-approve-removals-staff').count()).toBe(0);
    await screenshot(admin, 'admin-screen-applied');

    await admin.goto(`${harness.site.url}/wp-admin/users.php`);
    await screenshot(admin, 'users-list-after-approval');
  });

  it('keeps an editor out: no screen, and an approval they send is refused', async () => {
    const editor = await browser.newPage();
    await logIn(editor, harness.site.url, harness.site.editorUser, harness.site.editorPassword);
    const screen = await editor.goto(screenUrl());
    expect(screen?.status()).toBe(403);
    expect(await editor.locator('body').textContent()).toContain('not allowed');
    // The approve form's request, as an editor's browser would send it.
    const posted = await editor.request.post(`${harness.site.url}/wp-admin/admin-post.php`, {
      form: { action: 'entra_wp_sync_approve_removals', job: 'staff', held_run_id: 'x', 'users[]': '1' },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(403);
    expect(await posted.text()).toContain('not allowed to approve held removals');
    await editor.context().close();
  });
});
