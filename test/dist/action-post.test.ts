// The action's post step (dist/post.js) after a main that was killed outright (SIGKILL,
// as the runner does 10 s after a cancel, or a lost runner): it releases the lock the run
// left, only while the lock still names that run, and does nothing after a clean run.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import {
  holdUsersPage,
  type RunnerFiles,
  runActionPost,
  runnerFiles,
  startActionMain,
} from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { adminHeaders, runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;
const heldPages: Array<() => void> = [];

afterEach(async () => {
  for (const release of heldPages.splice(0)) release();
  await harness?.stop();
  harness = undefined;
});

const siteLockHolder = () =>
  runPhpOnSite(
    `$lock = get_option('entra_wp_sync_lock_staff'); echo is_array($lock) ? $lock['runId'] : 'free';`,
  );

function inputsFor(harness: SyncHarness) {
  return { config: harness.configPath, 'dry-run': 'false', out: join(harness.directory, 'out') };
}

/** Starts main, and kills it with SIGKILL once it holds the lock and waits for its first page. */
async function killMainMidRun(harness: SyncHarness, files: RunnerFiles): Promise<void> {
  const page = holdUsersPage(harness.graph, 1);
  heldPages.push(page.release);
  const step = startActionMain(inputsFor(harness), harness.env, files);
  await page.arrived;
  step.child.kill('SIGKILL');
  expect((await step.result).signal).toBe('SIGKILL');
  page.release();
  harness.graph.faults.hold = undefined;
}

describe('the action post step', () => {
  it('WordPress backend: releases the lock a killed run left, and the next run proceeds at once', async () => {
    harness = await startSyncHarness(generateUsers(6, 321));
    await harness.writeConfig({ limits: { pageSize: 2 } }, { state: { backend: 'wordpress' } });
    const files = await runnerFiles(harness.directory);
    await killMainMidRun(harness, files);
    const killedRun = await siteLockHolder();
    expect(killedRun).not.toBe('free');
    const refused = await harness.runJobs();
    expect(refused.stderr).toContain('already running');

    const post = await runActionPost(inputsFor(harness), harness.env, files);
    expect(post.code, post.stdout).toBe(0);
    // A plugin older than the one in this repository does not say whether it removed one.
    expect(post.stdout).toMatch(
      new RegExp(
        `staff: released the lock (run ${killedRun} left behind|of run ${killedRun} on the site if it still held it)`,
      ),
    );
    expect(post.stdout).not.toContain('::warning::');
    expect(await siteLockHolder()).toBe('free');
    const next = await harness.runJobs();
    expect(next.code, next.stderr).toBe(0);
    expect(next.rows.filter((row) => row.action === 'created')).toHaveLength(6);
  });

  it('file backend: removes the lock file of the killed run, never the lock of a run that took it over', async () => {
    harness = await startSyncHarness(generateUsers(6, 322));
    await harness.writeConfig({ limits: { pageSize: 2 } });
    const lockFile = join(harness.directory, 'state', 'staff.lock');
    const lockRun = async () => (JSON.parse(await readFile(lockFile, 'utf8')) as { runId: string }).runId;

    const first = await runnerFiles(harness.directory, 'first');
    await killMainMidRun(harness, first);
    const killedRun = await lockRun();
    const post = await runActionPost(inputsFor(harness), harness.env, first);
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toContain(`staff: released the lock run ${killedRun} left behind`);
    await expect(readFile(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });

    // Killed again; this time another run takes the stale lock over before post runs.
    const second = await runnerFiles(harness.directory, 'second');
    await killMainMidRun(harness, second);
    const page = holdUsersPage(harness.graph, 1);
    heldPages.push(page.release);
    const other = harness.start(['run', '-c', harness.configPath, '--out', join(harness.directory, 'other')]);
    await page.arrived;
    const otherRun = await lockRun();
    expect(otherRun).not.toBe(killedRun);
    const late = await runActionPost(inputsFor(harness), harness.env, second);
    expect(late.code, late.stdout).toBe(0);
    expect(late.stdout).toMatch(/staff: run \S+ holds no lock .*left alone/);
    expect(await lockRun()).toBe(otherRun);
    page.release();
    expect((await other.result).code).toBe(0);
  });

  it('after a run that ended by itself, post does nothing, and leaves the next run its lock', async () => {
    harness = await startSyncHarness(generateUsers(3, 323));
    await harness.writeConfig({}, { state: { backend: 'wordpress' } });
    const files = await runnerFiles(harness.directory);
    const main = await startActionMain(inputsFor(harness), harness.env, files).result;
    expect(main.code, main.stdout).toBe(0);
    // Another run holds the job when this run's post step comes.
    const take = await fetch(`${harness.site.restUrl}entra-wp-sync/v1/lock/staff`, {
      method: 'POST',
      headers: adminHeaders(harness.site),
      body: JSON.stringify({ runId: 'other-run', host: 'runner-7', startedAt: new Date().toISOString() }),
    });
    expect(take.status).toBe(200);

    const post = await runActionPost(inputsFor(harness), harness.env, files);
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toMatch(/entra-wp-sync: run \S+ released its locks itself; nothing to release\./);
    expect(await siteLockHolder()).toBe('other-run');
  });
});
