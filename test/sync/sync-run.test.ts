import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { expirePageTokensAt, runSignalledAtPage, usersPageRequests } from '../support/graph-hooks.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const count = (rows: Array<Record<string, unknown>>, action: string) =>
  rows.filter((row) => row.action === action).length;
const linkedUsers = async () =>
  (await harness!.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);

/** Entra users whose text WordPress normalises on the way in. */
function awkwardUsers(): FakeUser[] {
  return [
    {
      id: 'aaaaaaaa-0000-4000-8000-000000000001',
      userPrincipalName: 'zoe@contoso.com',
      mail: 'Zoe.Angstrom@Contoso.com',
      givenName: '  Zoë   ',
      surname: 'Ångström <b>PhD</b>',
      displayName: 'Zoë\tÅngström',
    },
    {
      id: 'aaaaaaaa-0000-4000-8000-000000000002',
      userPrincipalName: 'jörg.müller@contoso.com',
      mail: 'joerg@contoso.com',
      givenName: 'Jörg',
      surname: 'Müller 100%',
      displayName: 'Jörg Müller',
    },
    {
      id: 'aaaaaaaa-0000-4000-8000-000000000003',
      userPrincipalName: 'rtl@contoso.com',
      mail: 'rtl@contoso.com',
      givenName: 'مريم',
      surname: 'שלום',
      displayName: '🙂 مريم',
    },
  ];
}

describe('run: Entra users into a real WordPress', () => {
  it('creates every user once with the marker, and a second run changes nothing', async () => {
    harness = await startSyncHarness([...generateUsers(120, 7), ...awkwardUsers()]);
    await harness.writeConfig({ limits: { pageSize: 50 } });
    const first = await harness.runJobs();
    expect(first.stderr).toContain('page 3');
    expect(first.code).toBe(0);
    expect(count(first.rows, 'created')).toBe(123);
    // Only what the job maps is asked for, in pages of the configured size.
    const firstPage = harness.graph.requests.find((request) => request.path === '/v1.0/users');
    expect(firstPage?.query.$top).toBe('50');
    expect(firstPage?.query.$select?.split(',').sort()).toEqual(
      [
        'accountEnabled',
        'displayName',
        'givenName',
        'id',
        'identities',
        'mail',
        'mailNickname',
        'otherMails',
        'surname',
        'userPrincipalName',
        'userType',
      ].sort(),
    );

    const users = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(users).toHaveLength(123);
    expect(new Set(users.map((user) => user.email.toLowerCase())).size).toBe(123);
    const zoe = users.find(
      (user) => user.meta.entra_wp_sync_object_id === 'aaaaaaaa-0000-4000-8000-000000000001',
    );
    expect(zoe).toMatchObject({
      username: 'zoe@contoso.com',
      first_name: 'Zoë',
      last_name: 'Ångström PhD',
      roles: ['subscriber'],
    });
    expect(zoe?.meta.entra_wp_sync_jobs).toEqual(['staff']);
    const jorg = users.find(
      (user) => user.meta.entra_wp_sync_object_id === 'aaaaaaaa-0000-4000-8000-000000000002',
    );
    expect(jorg?.username).toBe('jorg.muller@contoso.com');

    const second = await harness.runJobs();
    expect(second.code).toBe(0);
    expect(count(second.rows, 'unchanged')).toBe(123);
    expect(second.rows.filter((row) => row.action !== 'unchanged')).toEqual([]);
    expect(second.summary).toContain('Cycle complete: 3 pages, 123 of 123 users.');
  });

  it('previews without writing anything and reports what it would do', async () => {
    harness = await startSyncHarness(generateUsers(30, 2));
    await harness.writeConfig();
    const before = await harness.wordpressUsers();
    const preview = await harness.runJobs(['--dry-run']);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('staff (preview): 30 created');
    expect(await harness.wordpressUsers()).toHaveLength(before.length);
    expect(preview.rows.every((row) => row.mode === 'planned')).toBe(true);
    const csv = await readFile(join(preview.outDir, 'results.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe(
      'time,runId,job,action,mode,objectId,userPrincipalName,email,wordpressId,wordpressLogin,fields,message',
    );
  });

  it('turns users it cannot map into error rows, goes on with the others and exits 3', async () => {
    const users: FakeUser[] = [
      ...generateUsers(5, 4),
      {
        id: 'bbbbbbbb-0000-4000-8000-000000000001',
        userPrincipalName: '',
        mail: null,
        displayName: 'No Mail',
      },
      {
        id: 'bbbbbbbb-0000-4000-8000-000000000002',
        userPrincipalName: 'pipe|<script>@contoso.com',
        mail: 'pipe@contoso.com',
      },
      {
        id: 'bbbbbbbb-0000-4000-8000-000000000003',
        userPrincipalName: 'twin1@contoso.com',
        mail: 'Twin@contoso.com',
      },
      {
        id: 'bbbbbbbb-0000-4000-8000-000000000004',
        userPrincipalName: 'twin2@contoso.com',
        mail: 'twin@CONTOSO.com',
      },
    ];
    harness = await startSyncHarness(users);
    // strict: a login WordPress refuses is an error row too (derive would make one up).
    await harness.writeConfig({ usernames: 'strict' });
    const result = await harness.runJobs();
    expect(result.code).toBe(3);
    expect(count(result.rows, 'created')).toBe(6);
    const failed = result.rows.filter((row) => row.action === 'failed');
    expect(failed.map((row) => row.objectId).sort()).toEqual([
      'bbbbbbbb-0000-4000-8000-000000000001',
      'bbbbbbbb-0000-4000-8000-000000000002',
      'bbbbbbbb-0000-4000-8000-000000000004',
    ]);
    expect(failed.find((row) => String(row.objectId).endsWith('1'))?.message).toContain('no email found');
    expect(failed.find((row) => String(row.objectId).endsWith('4'))?.message).toContain(
      'also used by Entra user',
    );
    expect(result.summary).toContain('3 users could not be synced');
    expect(result.summary).toContain('pipe\\|\\<script\\>@contoso.com');
    expect(result.summary).not.toContain('<script>');
  });

  it('resumes after kill -9 with every user existing exactly once', async () => {
    harness = await startSyncHarness(generateUsers(240, 9));
    await harness.writeConfig({ limits: { pageSize: 20, concurrency: 4 } });
    // Killed while Graph holds the request for page 5: pages 1–4 are written and saved,
    // and nothing of page 5 can have been.
    const killed = await runSignalledAtPage(harness, { page: 5, signal: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    expect(await linkedUsers()).toHaveLength(80);

    harness.graph.requests.length = 0;
    const rerun = await harness.runJobs();
    expect(rerun.code, rerun.stderr).toBe(0);
    // It goes on from page 5's saved link: pages 5 to 12, the 160 users not yet written.
    const listing = usersPageRequests(harness.graph);
    expect(listing).toHaveLength(8);
    expect(listing[0]?.query.$skiptoken).toBeDefined();
    expect(rerun.stderr).not.toContain('page 1,');
    expect(count(rerun.rows, 'created')).toBe(160);
    expect(rerun.rows.filter((row) => row.action !== 'created')).toEqual([]);
    const users = await linkedUsers();
    expect(users).toHaveLength(240);
    expect(new Set(users.map((user) => user.meta.entra_wp_sync_object_id)).size).toBe(240);
    expect(new Set(users.map((user) => user.email.toLowerCase())).size).toBe(240);
  });

  it('stops after the current page when maxRuntime is reached and the next run continues', async () => {
    harness = await startSyncHarness(generateUsers(60, 5));
    await harness.writeConfig({ limits: { pageSize: 25, maxRuntime: 0.001 } });
    const first = await harness.runJobs();
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('25 created; cycle continues next run');
    expect(first.summary).toContain('limits.maxRuntime');
    const second = await harness.runJobs();
    expect(second.stderr).toContain('page 2,');
    expect(second.stdout).toContain('25 created; cycle continues next run');
    const third = await harness.runJobs();
    expect(third.stdout).toContain('10 created; cycle complete');
    expect(await linkedUsers()).toHaveLength(60);
  });

  it('starts the listing over when Graph says the page token expired, and still syncs everyone once', async () => {
    harness = await startSyncHarness(generateUsers(100, 6));
    await harness.writeConfig({ limits: { pageSize: 10, concurrency: 1 } });
    // Graph forgets its page tokens just as page 3 is asked for: that request's token is expired.
    expirePageTokensAt(harness.graph, 3);
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('page token has expired');
    // Pages 1 and 2, page 3 refused, then the listing from its first page: ten pages.
    const listing = usersPageRequests(harness.graph).map((request) => [
      request.status,
      request.query.$skiptoken === undefined ? 'first page' : 'next page',
    ]);
    expect(listing).toEqual([
      [200, 'first page'],
      [200, 'next page'],
      [400, 'next page'],
      [200, 'first page'],
      ...Array.from({ length: 9 }, () => [200, 'next page']),
    ]);
    // The users of pages 1 and 2, read twice, are written once.
    const created = result.rows.filter((row) => row.action === 'created').map((row) => row.objectId);
    expect(created).toHaveLength(100);
    expect(new Set(created).size).toBe(100);
    expect(result.rows.filter((row) => row.action !== 'created')).toEqual([]);
    expect(await linkedUsers()).toHaveLength(100);
  });

  it('refuses to run a job that another live run holds, and says so', async () => {
    harness = await startSyncHarness(generateUsers(3, 1));
    await harness.writeConfig();
    const lockFile = join(harness.directory, 'state', 'staff.lock');
    await import('node:fs/promises').then((fs) =>
      fs.mkdir(join(harness!.directory, 'state'), { recursive: true }),
    );
    await writeFile(
      lockFile,
      JSON.stringify({ runId: 'other', pid: process.pid, host: hostname(), startedAt: 'now' }),
    );
    const result = await harness.runJobs();
    // That run is doing the job's work: this one skips it without failing (no failure mail).
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `warn: staff: Job "staff" is already running: run other on ${hostname()}, pid ${process.pid}, since now; the lock frees when that process ends`,
    );
    expect(result.stderr).toContain('`entra-wp-sync state unlock --job staff`');
    expect(result.stdout).toContain('staff: skipped, another run holds the job: run other');
    expect(await linkedUsers()).toHaveLength(0);
  });

  it('shows a saved checkpoint, refuses a damaged one with advice, and resets it', async () => {
    harness = await startSyncHarness(generateUsers(30, 8));
    await harness.writeConfig({ limits: { pageSize: 10, maxRuntime: 0.001 } });
    await harness.runJobs();
    const show = await harness.run(['state', 'show', '-c', harness.configPath]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('page 1 done, 10 of 30 users seen');
    const file = join(harness.directory, 'state', 'staff.checkpoint.json');
    await writeFile(file, (await readFile(file, 'utf8')).slice(0, 40));
    const damaged = await harness.runJobs();
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain('is damaged');
    expect(damaged.stderr).toContain('entra-wp-sync state reset --job staff');
    const reset = await harness.run(['state', 'reset', '--job', 'staff', '-c', harness.configPath]);
    expect(reset.stdout).toContain('checkpoint cleared');
    expect((await harness.run(['state', 'show', '-c', harness.configPath])).stdout).toContain(
      'no checkpoint',
    );
  });

  it('on SIGTERM stops at the next page, saves the checkpoint, exits 143, and the next run resumes', async () => {
    harness = await startSyncHarness(generateUsers(150, 12));
    await harness.writeConfig({ limits: { pageSize: 10, concurrency: 2 } });
    // SIGTERM while Graph holds the request for page 3: the run finishes that page, then stops.
    const stopped = await runSignalledAtPage(harness, { page: 3, signal: 'SIGTERM' });
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(Date.now() - stopped.signalledAt).toBeLessThan(5000);
    const show = await harness.run(['state', 'show', '-c', harness.configPath]);
    expect(show.stdout).toContain('page 3 done, 30 of 150 users seen');
    const rerun = await harness.runJobs();
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).not.toContain('page 1,');
    expect(count(rerun.rows, 'created')).toBe(120);
    expect(await linkedUsers()).toHaveLength(150);
  });

  it('prints the JSON Schema of jobs.yaml', async () => {
    harness = await startSyncHarness([]);
    const result = await harness.run(['schema']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#' });
  });

  it('exits 2 and names the line of a broken configuration', async () => {
    harness = await startSyncHarness([]);
    await harness.writeConfig({ actions: { delete: 'purge' } });
    const result = await harness.run(['run', '-c', harness.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /jobs\.yaml:\d+:\d+ jobs\[0\]\.actions\.delete: must be one of none, soft, hard/,
    );
  });
});
