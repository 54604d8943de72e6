import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { adminHeaders, basicAuth, runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('checkpoints in WordPress', () => {
  it('keeps the checkpoint in the site, so the next run resumes without local files', async () => {
    harness = await startSyncHarness(generateUsers(25, 71));
    await harness.writeConfig(
      { limits: { pageSize: 10, maxRuntime: 0.001 } },
      { state: { backend: 'wordpress' } },
    );
    const first = await harness.runJobs();
    expect(first.stdout).toContain('10 created; cycle continues next run');
    const stored = await runPhpOnSite(`echo get_option('entra_wp_sync_state_staff');`);
    expect(JSON.parse(stored)).toMatchObject({ job: 'staff', pagesDone: 1 });
    expect((await harness.run(['state', 'show', '-c', harness.configPath])).stdout).toContain('page 1 done');
    const second = await harness.runJobs();
    expect(second.stderr).toContain('page 2,');
    await harness.runJobs();
    const users = (await harness.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
    expect(users).toHaveLength(25);
    expect(await runPhpOnSite(`echo get_option('entra_wp_sync_lock_staff') ? 'locked' : 'free';`)).toBe(
      'free',
    );
  });

  it('refuses a second run while another holds the lock on the site', async () => {
    harness = await startSyncHarness(generateUsers(3, 72));
    await harness.writeConfig({}, { state: { backend: 'wordpress' } });
    const take = await fetch(`${harness.site.restUrl}entra-wp-sync/v1/lock/staff`, {
      method: 'POST',
      headers: adminHeaders(harness.site),
      body: JSON.stringify({ runId: 'other-run', host: 'runner-7', startedAt: '2026-11-23T00:00:00Z' }),
    });
    expect(take.status).toBe(200);
    const refused = await harness.runJobs();
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stderr).toContain(
      'Job "staff" is already running: run other-run on runner-7, since 2026-11-23T00:00:00Z; its lease frees at',
    );
    expect(refused.stdout).toContain('staff: skipped, another run holds the job');
    await fetch(`${harness.site.restUrl}entra-wp-sync/v1/lock/staff`, {
      method: 'DELETE',
      headers: adminHeaders(harness.site),
      body: JSON.stringify({ runId: 'other-run' }),
    });
    expect((await harness.runJobs()).code).toBe(0);
  });

  it('refuses the state and lock routes to anonymous and under-privileged callers', async () => {
    harness = await startSyncHarness([]);
    const url = `${harness.site.restUrl}entra-wp-sync/v1/state/staff`;
    expect((await fetch(url)).status).toBe(401);
    const editor = { authorization: basicAuth(harness.site.editorUser, harness.site.editorAppPassword) };
    expect((await fetch(url, { headers: editor })).status).toBe(403);
    const lock = await fetch(`${harness.site.restUrl}entra-wp-sync/v1/lock/staff`, {
      method: 'POST',
      headers: { ...editor, 'content-type': 'application/json' },
      body: JSON.stringify({ runId: 'x' }),
    });
    expect(lock.status).toBe(403);
  });
});
