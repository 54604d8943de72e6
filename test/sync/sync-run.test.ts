import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const count = (rows: Array<Record<string, unknown>>, action: string) =>
  rows.filter((row) => row.action === action).length;

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
    const first = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'first'),
    ]);
    expect(first.stderr).toContain('page 3');
    expect(first.code).toBe(0);
    const rows = await harness.readResults(join(harness.directory, 'first'));
    expect(count(rows, 'created')).toBe(123);
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

    const second = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'second'),
    ]);
    expect(second.code).toBe(0);
    const again = await harness.readResults(join(harness.directory, 'second'));
    expect(count(again, 'unchanged')).toBe(123);
    expect(again.filter((row) => row.action !== 'unchanged')).toEqual([]);
    const summary = await readFile(join(harness.directory, 'second', 'summary.md'), 'utf8');
    expect(summary).toContain('Cycle complete: 3 pages, 123 of 123 users.');
  });

  it('previews without writing anything and reports what it would do', async () => {
    harness = await startSyncHarness(generateUsers(30, 2));
    await harness.writeConfig();
    const before = await harness.wordpressUsers();
    const preview = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--dry-run',
      '--out',
      join(harness.directory, 'preview'),
    ]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('staff (preview): 30 created');
    expect(await harness.wordpressUsers()).toHaveLength(before.length);
    const rows = await harness.readResults(join(harness.directory, 'preview'));
    expect(rows.every((row) => row.mode === 'planned')).toBe(true);
    const csv = await readFile(join(harness.directory, 'preview', 'results.csv'), 'utf8');
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
    await harness.writeConfig();
    const out = join(harness.directory, 'out');
    const result = await harness.run(['run', '-c', harness.configPath, '--out', out]);
    expect(result.code).toBe(3);
    const rows = await harness.readResults(out);
    expect(count(rows, 'created')).toBe(6);
    const failed = rows.filter((row) => row.action === 'failed');
    expect(failed.map((row) => row.objectId).sort()).toEqual([
      'bbbbbbbb-0000-4000-8000-000000000001',
      'bbbbbbbb-0000-4000-8000-000000000002',
      'bbbbbbbb-0000-4000-8000-000000000004',
    ]);
    expect(failed.find((row) => String(row.objectId).endsWith('1'))?.message).toContain('no email found');
    expect(failed.find((row) => String(row.objectId).endsWith('4'))?.message).toContain(
      'also used by Entra user',
    );
    const summary = await readFile(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('3 users could not be synced');
    expect(summary).toContain('pipe\\|\\<script\\>@contoso.com');
    expect(summary).not.toContain('<script>');
  });

  it('resumes after kill -9 with every user existing exactly once', async () => {
    harness = await startSyncHarness(generateUsers(240, 9));
    await harness.writeConfig({ limits: { pageSize: 20, concurrency: 4 } });
    const running = harness.start([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'killed'),
    ]);
    await running.waitForOutput(/page 4,/);
    running.child.kill('SIGKILL');
    const killed = await running.result;
    expect(killed.signal).toBe('SIGKILL');
    const partial = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(partial.length).toBeGreaterThanOrEqual(80);
    expect(partial.length).toBeLessThan(240);

    const rerun = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'rerun'),
    ]);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).not.toContain('page 1,');
    const users = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(users).toHaveLength(240);
    expect(new Set(users.map((user) => user.meta.entra_wp_sync_object_id)).size).toBe(240);
    expect(new Set(users.map((user) => user.email.toLowerCase())).size).toBe(240);
  });

  it('stops after the current page when maxRuntime is reached and the next run continues', async () => {
    harness = await startSyncHarness(generateUsers(60, 5));
    await harness.writeConfig({ limits: { pageSize: 25, maxRuntime: 0.001 } });
    const first = await harness.run(['run', '-c', harness.configPath, '--out', join(harness.directory, 'a')]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('25 created; cycle continues next run');
    expect(await readFile(join(harness.directory, 'a', 'summary.md'), 'utf8')).toContain('limits.maxRuntime');
    const second = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'b'),
    ]);
    expect(second.stderr).toContain('page 2,');
    expect(second.stdout).toContain('25 created; cycle continues next run');
    const third = await harness.run(['run', '-c', harness.configPath, '--out', join(harness.directory, 'c')]);
    expect(third.stdout).toContain('10 created; cycle complete');
    expect((await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(
      60,
    );
  });

  it('starts the listing over when Graph says the page token expired, and still syncs everyone once', async () => {
    harness = await startSyncHarness(generateUsers(100, 6));
    await harness.writeConfig({ limits: { pageSize: 10, concurrency: 1 } });
    const running = harness.start(['run', '-c', harness.configPath, '--out', join(harness.directory, 'out')]);
    await running.waitForOutput(/page 2,/);
    harness.graph.expireSkipTokens();
    const result = await running.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('page token has expired');
    const users = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(users).toHaveLength(100);
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
    const result = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'out'),
    ]);
    // That run is doing the job's work: this one skips it without failing (no failure mail).
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `warn: staff: Job "staff" is already running: run other on ${hostname()}, pid ${process.pid}, since now; the lock frees when that process ends`,
    );
    expect(result.stderr).toContain('`entra-wp-sync state unlock --job staff`');
    expect(result.stdout).toContain('staff: skipped, another run holds the job: run other');
    expect((await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id)).toHaveLength(
      0,
    );
  });

  it('shows a saved checkpoint, refuses a damaged one with advice, and resets it', async () => {
    harness = await startSyncHarness(generateUsers(30, 8));
    await harness.writeConfig({ limits: { pageSize: 10, maxRuntime: 0.001 } });
    await harness.run(['run', '-c', harness.configPath, '--out', join(harness.directory, 'a')]);
    const show = await harness.run(['state', 'show', '-c', harness.configPath]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('page 1 done, 10 of 30 users seen');
    const file = join(harness.directory, 'state', 'staff.checkpoint.json');
    await writeFile(file, (await readFile(file, 'utf8')).slice(0, 40));
    const damaged = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'b'),
    ]);
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
    const running = harness.start([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'term'),
    ]);
    await running.waitForOutput(/page 2,/);
    const signalled = Date.now();
    running.child.kill('SIGTERM');
    const stopped = await running.result;
    expect(stopped.code).toBe(143);
    expect(Date.now() - signalled).toBeLessThan(5000);
    const show = await harness.run(['state', 'show', '-c', harness.configPath]);
    expect(show.stdout).toMatch(/page \d+ done/);
    const rerun = await harness.run([
      'run',
      '-c',
      harness.configPath,
      '--out',
      join(harness.directory, 'after'),
    ]);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).not.toContain('page 1,');
    const users = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(users).toHaveLength(150);
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
