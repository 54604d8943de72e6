// Every run leaves a record in the site's run history (entra-wp-sync/v1/runs), which the
// Users → Entra ID sync screen reads: what it did, its errors, where the cycle stands. The
// history is the site's owners' to read, the sync's alone to write, and bounded.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunHistoryRecord } from '../../src/report/run-record.ts';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import {
  adminHeaders,
  basicAuth,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
} from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await harness?.stop();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

async function runsOf(site: WordPressSite, query = 'job=staff'): Promise<RunHistoryRecord[]> {
  const response = await fetch(`${site.restUrl}entra-wp-sync/v1/runs?${query}`, {
    headers: adminHeaders(site),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as RunHistoryRecord[];
}

function postRun(site: WordPressSite, record: unknown, authorization = adminHeaders(site).authorization) {
  return fetch(`${site.restUrl}entra-wp-sync/v1/runs`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(record),
  });
}

/** A record as the sync posts it, at minute `minute` of the day. */
function recordAt(minute: number, overrides: Partial<RunHistoryRecord> = {}): RunHistoryRecord {
  return {
    job: 'staff',
    runId: `run-${minute}`,
    trigger: 'schedule',
    startedAt: new Date(Date.UTC(2026, 11, 1, 0, minute)).toISOString(),
    durationMs: 1000,
    dryRun: false,
    outcome: 'ok',
    counts: { created: minute },
    cycle: { cycleId: 'c1', kind: 'full', page: 1, usersSoFar: 10, total: 10, complete: true },
    errors: [],
    failure: null,
    stopReason: null,
    held: null,
    approvedBy: null,
    url: null,
    ...overrides,
  };
}

describe('a run records itself in the site', () => {
  it('a sync by the CLI posts its counts, its errors by reason and its outcome', async () => {
    const users = generateUsers(6, 4401);
    users[1]!.mail = 'Sales Team';
    users[2]!.mail = 'Front Desk';
    harness = await startSyncHarness(users);
    await harness.writeConfig({ limits: { pageSize: 4 } });

    const run = await harness.runJobs();

    expect(run.code, run.stderr).toBe(3);
    const [record, ...older] = await runsOf(harness.site);
    expect(older).toEqual([]);
    expect(record).toMatchObject({
      job: 'staff',
      trigger: 'container',
      dryRun: false,
      outcome: 'partial',
      counts: { created: 4, failed: 2 },
      cycle: { kind: 'full', page: 2, usersSoFar: 6, complete: true },
      held: null,
      url: null,
    });
    expect(record!.runId).toBe(run.rows[0]!.runId);
    expect(record!.errors).toHaveLength(1);
    expect(record!.errors[0]).toMatchObject({ count: 2 });
    expect(record!.errors[0]!.reason).toContain('is not an email address WordPress accepts');
    expect(record!.errors[0]!.examples.map((example) => example.user)).toEqual([
      users[1]!.userPrincipalName,
      users[2]!.userPrincipalName,
    ]);
    expect(record!.errors[0]!.examples[1]!.message).toContain('"Front Desk"');
  });

  it('records no preview (it writes nothing to WordPress), and a run Graph refused as failed with its reason', async () => {
    harness = await startSyncHarness(generateUsers(3, 4402), { permissions: [] });
    await harness.writeConfig();

    const preview = await harness.runJobs(['--dry-run'], { ENTRA_WP_SYNC_TRIGGER: 'manual' });
    const failed = await harness.runJobs();

    expect(preview.code).toBe(1);
    expect(failed.code).toBe(1);
    const records = await runsOf(harness.site);
    expect(records.map((record) => [record.dryRun, record.outcome, record.trigger])).toEqual([
      [false, 'failed', 'container'],
    ]);
    expect(`${records[0]!.failure?.message} ${records[0]!.failure?.hint}`).toContain('User.Read.All');
    expect(records[0]!.failure?.source).toBe('entra');
  });

  it('is a warning, never the run’s failure, when the site refuses the record', async () => {
    harness = await startSyncHarness(generateUsers(2, 4403));
    proxy = await startWordPressProxy(harness.site.url, {
      before: (request) =>
        request.route === '/entra-wp-sync/v1/runs'
          ? { status: 500, body: { code: 'nope', message: 'Refused by a test', data: { status: 500 } } }
          : 'forward',
    });
    await harness.writeConfig({ wordpress: { url: proxy.url } });

    const run = await harness.runJobs();

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /staff: the run was not recorded in the site's run history .*Refused by a test/,
    );
    expect(run.rows.filter((row) => row.action === 'created')).toHaveLength(2);
    expect(await runsOf(harness.site)).toEqual([]);
  });
});

describe('the run history', () => {
  it('keeps each job’s newest runs, as many as entra_wp_sync_run_history_size says', async () => {
    const site = await useWordPressSite();
    await runPhpOnSite(`update_option( 'entra_wp_sync_run_history_size', 3 );`);
    // Posted out of order: the history is by start time, not arrival.
    for (const minute of [2, 5, 1, 4, 3]) expect((await postRun(site, recordAt(minute))).status).toBe(201);
    expect((await postRun(site, recordAt(9, { job: 'students' }))).status).toBe(201);
    // A record sent again (its answer was lost) replaces the first.
    expect((await postRun(site, recordAt(5, { counts: { created: 50 } }))).status).toBe(201);

    const staff = await runsOf(site);
    expect(staff.map((record) => [record.runId, record.counts.created])).toEqual([
      ['run-5', 50],
      ['run-4', 4],
      ['run-3', 3],
    ]);
    expect((await runsOf(site, '')).map((record) => record.runId)).toEqual([
      'run-9',
      'run-5',
      'run-4',
      'run-3',
    ]);
    const page = await fetch(`${site.restUrl}entra-wp-sync/v1/runs?job=staff&per_page=2&page=2`, {
      headers: adminHeaders(site),
    });
    expect(page.headers.get('x-wp-total')).toBe('3');
    expect(((await page.json()) as RunHistoryRecord[]).map((record) => record.runId)).toEqual(['run-3']);
    const autoload = await runPhpOnSite(
      `global $wpdb; echo $wpdb->get_var( "SELECT autoload FROM {$wpdb->options} WHERE option_name = 'entra_wp_sync_run_history'" );`,
    );
    expect(['no', 'off']).toContain(autoload.trim());
  });

  it('cuts a record to 32 KB, saying what it left out, and the whole history to 4 MB', async () => {
    const site = await useWordPressSite();
    const long = (label: string) => `${label} ${'x'.repeat(600)}`;
    const errors = Array.from({ length: 20 }, (_, index) => ({
      reason: long(`reason ${index}`),
      count: 5,
      examples: [1, 2, 3].map((example) => ({
        user: `user${example}@contoso.com`,
        message: long('message'),
      })),
    }));
    const removals = Array.from({ length: 200 }, (_, index) => ({
      id: index + 1,
      login: `leaver-${index}-${'l'.repeat(40)}`,
      upn: `leaver-${index}-${'u'.repeat(150)}@contoso.com`,
    }));
    const big = recordAt(1, {
      outcome: 'held',
      errors,
      held: { runId: 'run-1', removals, adoptions: [], removalsTotal: 200, adoptionsTotal: 0 },
    });
    expect(JSON.stringify(big).length).toBeGreaterThan(64 * 1024);

    const response = await postRun(site, big);

    expect(response.status).toBe(201);
    const [kept] = await runsOf(site);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(32 * 1024);
    expect(kept!.counts).toEqual(big.counts);
    expect(kept!.errors[0]!.examples).toEqual([]);
    expect(kept!.held?.removalsTotal).toBe(200);
    expect((kept as unknown as { notes: string[] }).notes.join(' ')).toMatch(/examples .* left out/);

    // Many jobs of full records: the oldest records go until the option fits.
    const bytes = await runPhpOnSite(`
      $record = json_decode( ${JSON.stringify(JSON.stringify(kept))}, true );
      $history = array();
      for ( $job = 0; $job < 8; $job++ ) {
        for ( $run = 0; $run < 50; $run++ ) {
          $history[ 'job' . $job ][] = array_merge( $record, array( 'job' => 'job' . $job, 'runId' => "r$run", 'startedAt' => gmdate( 'c', 1764547200 - $run * 3600 ) ) );
        }
      }
      $after = entra_wp_sync_history_with( $history, array_merge( $record, array( 'job' => 'job0', 'runId' => 'new', 'startedAt' => gmdate( 'c', 1764550800 ) ) ) );
      echo strlen( serialize( $history ) ), ' ', strlen( serialize( $after ) ), ' ', $after['job0'][0]['runId'], ' ', count( $after['job3'] );
    `);
    const [before, after, newest, job3] = bytes.trim().split(' ');
    expect(Number(before)).toBeGreaterThan(4 * 1024 * 1024);
    expect(Number(after)).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(newest).toBe('new');
    expect(Number(job3)).toBeLessThan(50);
  });

  it('is refused to an editor, to read and to write; and to the anonymous', async () => {
    const site = await useWordPressSite();
    expect((await postRun(site, recordAt(1))).status).toBe(201);
    const editor = basicAuth(site.editorUser, site.editorAppPassword);

    const read = await fetch(`${site.restUrl}entra-wp-sync/v1/runs?job=staff`, {
      headers: { authorization: editor },
    });
    const write = await postRun(site, recordAt(2), editor);
    const anonymous = await fetch(`${site.restUrl}entra-wp-sync/v1/runs?job=staff`);

    expect(read.status).toBe(403);
    expect(write.status).toBe(403);
    expect(anonymous.status).toBe(401);
    expect((await runsOf(site)).map((record) => record.runId)).toEqual(['run-1']);
  });

  it('refuses a record that is not one, naming the field', async () => {
    const site = await useWordPressSite();
    const response = await postRun(site, { ...recordAt(1), outcome: 'great' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain(
      'outcome must be ok, partial, held, failed',
    );
    expect(await runsOf(site)).toEqual([]);
  });
});
