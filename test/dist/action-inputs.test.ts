// Inputs of dist/index.js that bound what a run does: max-runtime (a run stops at a page
// boundary before the job's timeout-minutes), and a preview that may not reset state.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { holdUsersPage, readOutputs, runnerFiles, startActionMain } from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { annotations } from '../support/workflow-commands.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  harness?.graph.faults.clear();
  await harness?.stop();
  harness = undefined;
});

const stateShown = () =>
  harness!.run(['state', 'show', '-c', harness!.configPath]).then((result) => result.stdout);

describe('max-runtime', () => {
  it('stops a job without limits.maxRuntime at the next page once the input elapsed; the next run continues', async () => {
    harness = await startSyncHarness(generateUsers(6, 331));
    await harness.writeConfig({ limits: { pageSize: 2 } });
    const files = await runnerFiles(harness.directory);
    const page = holdUsersPage(harness.graph, 1);
    const step = startActionMain(
      { config: harness.configPath, 'max-runtime': '1s', out: join(harness.directory, 'out') },
      harness.env,
      files,
    );
    await page.arrived;
    // The first page is answered once the run's second is certainly over.
    setTimeout(page.release, 1100);
    const result = await step.result;

    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      'Jobs without limits.maxRuntime stop at the next page after 1 s (input max-runtime); the next run continues.',
    );
    expect(annotations(result.stdout)).toEqual([]);
    expect(await readOutputs(files)).toMatchObject({ complete: 'false', created: '2', outcome: 'ok' });
    const summary = await readFile(files.summary, 'utf8');
    expect(summary).toContain('Cycle in progress: page 1, 2 of 6 users so far; the next run continues.');
    expect(summary).toContain(String.raw`Stopped early: limits.maxRuntime \(1 s\) reached`);
    expect(await stateShown()).toContain('page 1 done');
  });

  it('inside GitHub Actions, defaults to 50 minutes; a value that is no duration is refused before anything runs', async () => {
    harness = await startSyncHarness(generateUsers(2, 332));
    await harness.writeConfig();
    const inputs = { config: harness.configPath, out: join(harness.directory, 'out') };
    const env = { ...harness.env, GITHUB_ACTIONS: 'true' };
    const inside = await startActionMain(inputs, env, await runnerFiles(harness.directory, 'inside')).result;
    expect(inside.code, inside.stdout).toBe(0);
    expect(inside.stdout).toContain('Jobs without limits.maxRuntime stop at the next page after 50 min');

    const files = await runnerFiles(harness.directory, 'typo');
    const typo = await startActionMain({ ...inputs, 'max-runtime': 'an hour' }, env, files).result;
    expect(typo.code).toBe(1);
    // One annotation for one problem, titled; the hint names the input, not a CLI flag.
    expect(annotations(typo.stdout)).toEqual([
      {
        command: 'error',
        properties: { title: 'Invalid input or configuration, nothing was changed' },
        message:
          'The input max-runtime must be a duration like 90s, 30m or 2h (got "an hour").\n  hint: Set it below the job\'s timeout-minutes, e.g. 50m for timeout-minutes: 60; leave it empty for the default (50m).',
      },
    ]);
    expect(await readOutputs(files)).toEqual({ outcome: 'failed' });
  });
});

describe('dry-run with reset-state', () => {
  it('is refused before anything is touched: the saved cycle in progress is unchanged', async () => {
    harness = await startSyncHarness(generateUsers(4, 333));
    await harness.writeConfig({ limits: { pageSize: 2, maxRuntime: 0.001 } });
    expect((await harness.runJobs()).code).toBe(0);
    const before = await stateShown();
    expect(before).toContain('page 1 done');

    const files = await runnerFiles(harness.directory);
    const result = await startActionMain(
      {
        config: harness.configPath,
        'dry-run': 'true',
        'reset-state': 'true',
        out: join(harness.directory, 'out'),
      },
      harness.env,
      files,
    ).result;

    expect(result.code).toBe(1);
    const [refused, ...others] = annotations(result.stdout);
    expect(others).toEqual([]);
    expect(refused).toMatchObject({
      command: 'error',
      properties: { title: 'Invalid input or configuration, nothing was changed' },
    });
    expect(refused?.message).toContain(
      'The inputs dry-run: true and reset-state: true cannot be used together: a preview writes nothing, but reset-state would clear the saved checkpoint and lose the cycle in progress.',
    );
    expect(refused?.message).toContain('hint: Remove reset-state to preview');
    expect(result.stdout).not.toContain('Checkpoints cleared');
    expect(await stateShown()).toBe(before);
    const summary = await readFile(files.summary, 'utf8');
    expect(summary).toContain('## entra-wp-sync failed before any job ran');
    expect(summary).toContain('Nothing was read from Entra or written to WordPress.');
  });
});
