// A cancelled workflow run (or one past timeout-minutes): the runner sends SIGINT to
// dist/index.js, then SIGTERM 7.5 s later, then SIGKILL. The run stops after the page in
// flight, saves its checkpoint, releases its lock and reports, like the CLI does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import {
  holdUsersPage,
  pagesBeforeDone,
  readOutputs,
  runActionPost,
  runnerFiles,
  startActionMain,
} from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';
import { annotations } from '../support/workflow-commands.ts';

let harness: SyncHarness | undefined;
let releaseHeldPage: (() => void) | undefined;

afterEach(async () => {
  releaseHeldPage?.();
  releaseHeldPage = undefined;
  await harness?.stop();
  harness = undefined;
});

const siteLock = () => runPhpOnSite(`echo get_option('entra_wp_sync_lock_staff') ? 'locked' : 'free';`);

/** Six users, two a page, checkpoints and the lock in the site (the backend a workflow uses). */
async function siteWithSixUsers(seed: number) {
  harness = await startSyncHarness(generateUsers(6, seed));
  await harness.writeConfig({ limits: { pageSize: 2 } }, { state: { backend: 'wordpress' } });
  const files = await runnerFiles(harness.directory);
  const inputs = { config: harness.configPath, 'dry-run': 'false', out: join(harness.directory, 'out') };
  return { harness, files, inputs };
}

describe('cancelling the action', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s: the page in flight finishes, the checkpoint is saved, the lock released and the step reports',
    async (signal, exitCode) => {
      const { harness, files, inputs } = await siteWithSixUsers(signal === 'SIGINT' ? 311 : 312);
      const page = holdUsersPage(harness.graph, 2);
      releaseHeldPage = page.release;
      const step = startActionMain(inputs, harness.env, files);
      await page.arrived;
      await pagesBeforeDone(step, 2);
      step.child.kill(signal);
      await step.waitForOutput(new RegExp(`Received ${signal}: the run stops after the page in flight`));
      page.release();
      const result = await step.result;

      expect(result.signal).toBeNull();
      expect(result.code).toBe(exitCode);
      expect(annotations(result.stdout)).toEqual([
        {
          command: 'warning',
          properties: { title: 'Run cancelled, checkpoint saved' },
          message: `cancelled (${signal}): staff stopped after page 2; the checkpoint is saved and the lock released; the next run continues.`,
        },
      ]);
      const outputs = await readOutputs(files);
      expect(outputs).toMatchObject({ complete: 'false', created: '4', failed: '0' });
      const summary = await readFile(files.summary, 'utf8');
      expect(summary).toContain(`cancelled (${signal}): staff stopped after page 2`);
      expect(summary).toContain('Cycle in progress: page 2');
      expect((await harness.run(['state', 'show', '-c', harness.configPath])).stdout).toContain(
        'page 2 done',
      );

      // The next scheduled run takes the lock at once and continues with page 3.
      expect(await siteLock()).toBe('free');
      const next = await harness.runJobs();
      expect(next.stderr).not.toContain('already running');
      expect(next.code, next.stderr).toBe(0);
      expect(next.rows.filter((row) => row.action === 'created')).toHaveLength(2);
    },
  );

  it('a page still in flight after the grace period: the step reports and exits before SIGKILL, and post frees the lock', async () => {
    const { harness, files, inputs } = await siteWithSixUsers(313);
    const page = holdUsersPage(harness.graph, 2);
    releaseHeldPage = page.release;
    const step = startActionMain(inputs, harness.env, files);
    await page.arrived;
    await pagesBeforeDone(step, 2);
    step.child.kill('SIGINT');
    // Graph never answers: the step ends by itself after the grace period.
    const result = await step.result;

    expect(result.signal).toBeNull();
    expect(result.code).toBe(130);
    const [cancelled, ...others] = annotations(result.stdout);
    expect(others).toEqual([]);
    expect(cancelled).toMatchObject({
      command: 'warning',
      properties: { title: 'Run cancelled mid-page, last checkpoint kept' },
    });
    expect(cancelled?.message).toContain(
      'cancelled (SIGINT): a page was still in flight when the grace period ended; staff had finished page 1 (2 users read in this cycle)',
    );
    expect((await readOutputs(files)).complete).toBe('false');
    expect(await readFile(files.summary, 'utf8')).toContain('## entra-wp-sync: cancelled');
    expect((await harness.run(['state', 'show', '-c', harness.configPath])).stdout).toContain('page 1 done');
    expect(await siteLock()).toBe('locked');

    const post = await runActionPost(inputs, harness.env, files);
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toMatch(/staff: released the lock run \S+ left behind/);
    expect(await siteLock()).toBe('free');
    page.release();
    const next = await harness.runJobs();
    expect(next.code, next.stderr).toBe(0);
    expect(next.rows.filter((row) => row.action === 'created')).toHaveLength(4);
  });
});
