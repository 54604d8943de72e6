// Users → Entra ID sync in wp-admin, fetched as a signed-in administrator: each job's last
// run (counts, errors by reason, cycle), the run history paged, an empty state that says
// how to run the sync, text from Entra escaped, and no page for those who may not edit users.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunHistoryRecord } from '../../src/report/run-record.ts';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { adminHeaders, useWordPressSite, type WordPressSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const testCookie = 'wordpress_test_cookie=WP%20Cookie%20check';

/** Signs in through wp-login.php as a person does; returns the session's cookies. */
async function signIn(site: WordPressSite, login: string, password: string): Promise<string> {
  const response = await fetch(`${site.url}/wp-login.php`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie },
    body: new URLSearchParams({ log: login, pwd: password, 'wp-submit': 'Log In', testcookie: '1' }),
  });
  expect(response.status).toBe(302);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

async function screen(site: WordPressSite, query = '', as?: { login: string; password: string }) {
  const cookies = await signIn(site, as?.login ?? site.adminUser, as?.password ?? site.adminPassword);
  const response = await fetch(`${site.url}/wp-admin/users.php?page=entra-wp-sync${query}`, {
    redirect: 'manual',
    headers: { cookie: cookies },
  });
  return { status: response.status, html: await response.text() };
}

/** The HTML from the element with this id to the end of the screen (before the admin footer). */
function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  expect(start, `no element with id ${id}`).toBeGreaterThan(-1);
  const footer = html.indexOf('id="wpfooter"');
  return html.slice(start, footer > start ? footer : undefined);
}

/** The element of this class and what follows it, to the next heading. */
function part(html: string, className: string): string {
  const start = html.search(new RegExp(`class="[^"]*\\b${className}\\b`));
  expect(start, `no element of class ${className}`).toBeGreaterThan(-1);
  const rest = html.slice(start);
  const end = rest.search(/<h[23]\b/);
  return end < 0 ? rest : rest.slice(0, end);
}

async function postRun(site: WordPressSite, record: RunHistoryRecord): Promise<void> {
  const response = await fetch(`${site.restUrl}entra-wp-sync/v1/runs`, {
    method: 'POST',
    headers: adminHeaders(site),
    body: JSON.stringify(record),
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

function recordAt(minute: number, overrides: Partial<RunHistoryRecord> = {}): RunHistoryRecord {
  return {
    job: 'staff',
    runId: `run-${minute}`,
    trigger: 'schedule',
    startedAt: new Date(Date.UTC(2026, 11, 1, 0, minute)).toISOString(),
    durationMs: 83_000,
    dryRun: false,
    outcome: 'ok',
    counts: { created: minute, updated: 0 },
    cycle: { cycleId: 'c1', kind: 'full', page: 3, usersSoFar: 2997, total: 10_000, complete: false },
    errors: [],
    failure: null,
    stopReason: null,
    held: null,
    approvedBy: null,
    url: `https://github.com/contoso/sync/actions/runs/${minute}`,
    ...overrides,
  };
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&quot;|&#0?34;/g, '"')
    .replace(/\s+/g, ' ');

describe('Users → Entra ID sync', () => {
  it('tells a site with no runs yet how to run the sync', async () => {
    const site = await useWordPressSite();
    const page = await screen(site);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<div class="wrap" id="entra-wp-sync">');
    const empty = text(section(page.html, 'entra-wp-sync-empty'));
    expect(empty).toContain('No sync run has reported to this site yet.');
    expect(empty).toContain('entra-wp-sync run -c jobs.yaml');
    // The menu entry sits under Users.
    expect(page.html).toMatch(/href=['"]users\.php\?page=entra-wp-sync['"][^>]*>Entra ID sync</);
  });

  it('shows the counts and the errors of the last sync, with text from Entra escaped', async () => {
    const users = generateUsers(5, 4501);
    users[2]!.mail = '<script>alert("entra")</script>';
    users[2]!.displayName = '<script>alert("name")</script>';
    harness = await startSyncHarness(users);
    await harness.writeConfig();
    const run = await harness.runJobs();
    expect(run.code, run.stderr).toBe(3);

    const page = await screen(harness.site);

    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<script>alert(');
    const job = section(page.html, 'entra-wp-sync-job-staff');
    expect(part(job, 'entra-wp-sync-last-run')).toContain('data-outcome="partial"');
    expect(text(part(job, 'entra-wp-sync-last-run'))).toMatch(
      /Last run: Partial: some users could not be synced.*started by a container or cron job/,
    );
    const counts = part(job, 'entra-wp-sync-counts');
    expect(counts).toMatch(/data-count="created"><th scope="row">Created<\/th><td>4<\/td>/);
    expect(counts).toMatch(/data-count="failed"><th scope="row">Could not be synced<\/th><td>1<\/td>/);
    const errors = part(job, 'entra-wp-sync-errors');
    expect(errors).toContain('&lt;script&gt;alert(');
    expect(text(errors)).toContain('is not an email address WordPress accepts');
    expect(text(errors)).toContain(users[2]!.userPrincipalName);
    expect(text(part(job, 'entra-wp-sync-cycle'))).toMatch(/Cycle complete: 1 pages, 5 (of 5 )?users\./);
    expect(part(job, 'entra-wp-sync-history')).toContain(`data-run-id="${run.rows[0]!.runId}"`);
  });

  it('shows where the cycle stands, the link to the run, and escapes every text of a record', async () => {
    const site = await useWordPressSite();
    await postRun(
      site,
      recordAt(1, {
        outcome: 'failed',
        failure: { message: 'WordPress said <b>no</b>', hint: 'Check <i>this</i>', source: 'wordpress' },
        stopReason: '<img src=x onerror=alert(1)>',
        approvedBy: '<svg onload=alert(2)>',
        errors: [
          {
            reason: '"<u>x</u>" is bad',
            count: 1,
            examples: [{ user: '<em>u</em>@contoso.com', message: '<script>alert(3)</script>' }],
          },
        ],
        url: 'javascript:alert(4)',
      }),
    );
    await postRun(site, recordAt(0));

    const page = await screen(site);

    const job = section(page.html, 'entra-wp-sync-job-staff');
    for (const hostile of [
      '<b>no',
      '<i>this',
      '<img src=x',
      '<svg onload',
      '<u>x',
      '<em>u',
      '<script>alert(3)',
    ]) {
      expect(job).not.toContain(hostile);
    }
    expect(job).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(job).not.toContain('javascript:');
    expect(text(part(job, 'entra-wp-sync-cycle'))).toContain(
      'Cycle in progress: page 3, 2,997 of 10,000 users so far; the next run continues.',
    );
    expect(part(job, 'entra-wp-sync-cycle')).toContain('<progress max="10000" value="2997"');
    expect(text(part(job, 'entra-wp-sync-last-run'))).toContain('took 1 min 23 s, started by the schedule');
    // The older run kept its link; the newer one's was no http(s) address and was dropped.
    expect(part(job, 'entra-wp-sync-history')).toContain(
      'class="entra-wp-sync-run-link" href="https://github.com/contoso/sync/actions/runs/0"',
    );
  });

  it('pages the history newest first, and shows one job at a time with every job at a glance', async () => {
    const site = await useWordPressSite();
    for (let minute = 1; minute <= 25; minute++) await postRun(site, recordAt(minute));
    await postRun(site, recordAt(30, { job: 'students', outcome: 'held' }));

    const first = await screen(site, '&job=staff');
    const second = await screen(site, '&job=staff&paged=2');

    const rowsOf = (html: string) =>
      [...part(html, 'entra-wp-sync-history').matchAll(/<tr data-run-id="([^"]+)"/g)].map(
        (match) => match[1],
      );
    expect(rowsOf(first.html)).toEqual(Array.from({ length: 20 }, (_, index) => `run-${25 - index}`));
    expect(rowsOf(second.html)).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
    expect(text(part(first.html, 'entra-wp-sync-history'))).toContain('25 items');
    const glance = part(first.html, 'entra-wp-sync-jobs');
    expect(glance).toMatch(/<tr data-job="staff" aria-current="true">/);
    expect(glance).toMatch(/<tr data-job="students">.*data-outcome="held"/s);
    expect(first.html).not.toContain('id="entra-wp-sync-job-students"');
    expect((await screen(site, '&job=students')).html).toContain('id="entra-wp-sync-job-students"');
  });

  it('is not there for an editor, who may not list and edit users', async () => {
    const site = await useWordPressSite();
    await postRun(site, recordAt(1));
    const page = await screen(site, '', { login: site.editorUser, password: site.editorPassword });
    expect(page.status).toBe(403);
    expect(page.html).not.toContain('entra-wp-sync-job-staff');
  });
});
