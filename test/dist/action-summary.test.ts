// The step summary of a run that failed: a failed heading with the message and the hint
// first, only what did happen, and the side that failed named, never Entra for WordPress.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { runnerFiles, startActionMain } from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  harness?.graph.faults.clear();
  await harness?.stop();
  harness = undefined;
});

async function stepSummary(env: NodeJS.ProcessEnv) {
  const files = await runnerFiles(harness!.directory);
  const result = await startActionMain(
    { config: harness!.configPath, out: join(harness!.directory, 'out') },
    env,
    files,
  ).result;
  return { ...result, summary: await readFile(files.summary, 'utf8') };
}

describe('the step summary of a failed run', () => {
  it('WordPress refused the sync: the error and its hint first, no table of zeros or page 0, and Entra is not blamed', async () => {
    harness = await startSyncHarness(generateUsers(4, 371));
    await harness.writeConfig({ actions: { delete: 'soft' } });
    const { code, summary } = await stepSummary({
      ...harness.env,
      WORDPRESS_APP_PASSWORD: 'abcd efgh ijkl mnop qrst uvwx',
    });

    expect(code).toBe(1);
    const lines = summary.split('\n');
    expect(lines[0]).toBe('## entra-wp-sync: staff failed');
    expect(lines[2]).toMatch(/^> \*\*WordPress did not accept the application password for "admin"/);
    expect(lines[4]).toMatch(
      /^> Create an application password under Users → Profile → Application Passwords/,
    );
    expect(summary).toContain('No WordPress user was changed.');
    expect(summary).toContain(
      'No one was removed: removals only follow a complete cycle, and this run stopped at the error above.',
    );
    expect(summary).not.toContain('| created |');
    expect(summary).not.toMatch(/page 0|Cycle in progress/);
    expect(summary).not.toContain('Entra');
  });

  it('Graph failed mid-cycle: what the pages before it did, and that the cycle could not read every user from Entra', async () => {
    harness = await startSyncHarness(generateUsers(6, 372));
    await harness.writeConfig({ actions: { delete: 'soft' }, limits: { pageSize: 2 } });
    // The second page is refused for good (a permission removed mid-run).
    harness.graph.faults.once({ path: /^\/v1\.0\/users$/, status: 403, skip: 1 });
    const { code, summary } = await stepSummary(harness.env);

    expect(code).toBe(1);
    expect(summary.split('\n')[0]).toBe('## entra-wp-sync: staff failed');
    expect(summary.split('\n')[2]).toMatch(/^> \*\*Graph refused GET \/v1\.0\/users: /);
    expect(summary).toContain('| created | updated |\n| --- | --- |\n| 2 | 0 |');
    expect(summary).toContain(
      'Before the error: Cycle in progress: page 1, 2 of 6 users so far; the next run continues.',
    );
    expect(summary).toContain(
      'No one was removed: the cycle could not read every user from Entra, and removals only follow a complete cycle.',
    );
    expect(summary).not.toContain('No WordPress user was changed.');
  });
});
