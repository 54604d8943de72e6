import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('state show', () => {
  it('prints a short history of the last runs with their outcome and counts', async () => {
    harness = await startSyncHarness(generateUsers(12, 98));
    await harness.writeConfig({ limits: { pageSize: 5, maxRuntime: 0.001 } });
    await harness.runJobs();
    harness.graph.faults.once({ path: /\/v1\.0\/users$/, status: 403 });
    expect((await harness.runJobs()).code).toBe(1);
    await harness.runJobs();
    await harness.runJobs();
    const show = await harness.run(['state', 'show', '-c', harness.configPath]);
    const lines = show.stdout.split('\n');
    const header = lines.findIndex((line) => line.includes('started') && line.includes('outcome'));
    expect(header).toBeGreaterThan(0);
    const runs = lines.slice(header + 1).filter((line) => line.trim() !== '');
    expect(runs.map((line) => line.trim().split(/\s{2,}/)[2])).toEqual([
      'continues',
      'failed',
      'continues',
      'cycle complete',
    ]);
    // created column of each run: 5, 0, 5, 2
    expect(runs.map((line) => line.trim().split(/\s{2,}/)[3])).toEqual(['5', '0', '5', '2']);
  });
});
