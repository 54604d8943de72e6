// dist/index.js records each run in the site's run history as the CLI does, with what
// started it (the workflow's event) and the link back to the run's page.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunHistoryRecord } from '../../src/report/run-record.ts';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { runnerFiles, startActionMain } from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { adminHeaders } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** The step as a workflow run of this event runs it, in its own runner files. */
async function step(eventName: string, runId: string) {
  const files = await runnerFiles(harness!.directory, `run-${runId}`);
  return startActionMain(
    { config: harness!.configPath },
    {
      ...harness!.env,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: eventName,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'contoso/intranet-sync',
      GITHUB_RUN_ID: runId,
      GITHUB_RUN_ATTEMPT: '1',
    },
    files,
  ).result;
}

describe('the Action and the site’s run history', () => {
  it('records each run with its workflow event, its page and the removals it holds', async () => {
    const people = generateUsers(6, 4601);
    harness = await startSyncHarness(people);
    await harness.writeConfig(
      { actions: { delete: 'soft' }, safety: { maxDeletes: 1 } },
      { state: { backend: 'wordpress' } },
    );
    const dispatched = await step('workflow_dispatch', '101');
    expect(dispatched.code, dispatched.stdout + dispatched.stderr).toBe(0);
    for (const person of people.slice(0, 2)) harness.graph.tenant.removeUser(person.id);

    expect((await step('schedule', '102')).code).toBe(1);

    const response = await fetch(`${harness.site.restUrl}entra-wp-sync/v1/runs?job=staff`, {
      headers: adminHeaders(harness.site),
    });
    const [held, first, ...older] = (await response.json()) as RunHistoryRecord[];
    expect(older).toEqual([]);
    expect(first).toMatchObject({
      trigger: 'dispatch',
      outcome: 'ok',
      counts: { created: 6 },
      url: 'https://github.com/contoso/intranet-sync/actions/runs/101',
    });
    expect(held).toMatchObject({
      trigger: 'schedule',
      outcome: 'held',
      url: 'https://github.com/contoso/intranet-sync/actions/runs/102',
      held: { runId: held!.runId, removalsTotal: 2, adoptionsTotal: 0, adoptions: [] },
    });
    const accounts = await harness.wordpressUsers();
    const expected = people.slice(0, 2).map((person) => {
      const account = accounts.find((user) => user.meta.entra_wp_sync_object_id === person.id)!;
      // A removed user is gone from Entra: the run knows their account, not their UPN.
      return { id: account.id, login: account.username, upn: null };
    });
    expect(held!.held!.removals).toEqual(expect.arrayContaining(expected));
    expect(held!.held!.removals).toHaveLength(2);
  });
});
