// An approval approves what a person reviewed: the list the last held run showed (kept with
// the job's state), optionally pinned by its size or the held run's id, never "whatever the
// next run finds". Through the real CLI and the Action bundle against the real WordPress.
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { runnerFiles, startActionMain } from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const run = (extra: string[] = []) => harness!.runJobs(extra);
const rowsWith = (rows: Array<Record<string, unknown>>, action: string) =>
  rows.filter((row) => row.action === action).map((row) => String(row.objectId));
const ids = (people: FakeUser[]) => people.map((person) => person.id).sort();

async function syncedTenant(count: number, seed: number, job: Record<string, unknown>) {
  const people = generateUsers(count, seed);
  harness = await startSyncHarness(people);
  await harness.writeConfig({ actions: { delete: 'soft' }, ...job });
  expect((await run()).code).toBe(0);
  return people;
}

describe('approving held removals', () => {
  it('approves exactly the held list; a wrong count or a grown list holds again and says what changed', async () => {
    const people = await syncedTenant(20, 71, { safety: { maxDeletes: 2 } });
    const firstLeavers = people.slice(0, 5);
    for (const person of firstLeavers) harness!.graph.tenant.removeUser(person.id);

    const held = await run();
    expect(held.code).toBe(4);
    expect(rowsWith(held.rows, 'held').sort()).toEqual(ids(firstLeavers));
    expect(held.summary).toContain('run again with `--allow-deletes 5` (approves exactly these 5)');
    const listed = held.summary
      .split('\n')
      .filter((line) => line.startsWith('- '))
      .map((line) => line.slice(2));
    expect(listed).toEqual([...listed].sort());
    expect(listed).toHaveLength(5);

    const wrongCount = await run(['--allow-deletes', '3']);
    expect(wrongCount.code).toBe(4);
    expect(rowsWith(wrongCount.rows, 'disabled')).toEqual([]);
    expect(wrongCount.summary).toContain('--allow-deletes 3 approves nothing: the held list');
    expect(wrongCount.summary).toContain('has 5 removals, not 3');
    // The terminal says so too, not only summary.md.
    expect(wrongCount.stdout).toContain('staff: --allow-deletes 3 approves nothing');
    expect(held.stdout).toContain(
      'staff: 5 removals held; check the list in summary.md, then approve exactly it with --allow-deletes 5',
    );

    // One more person leaves before anyone approves: the bare approval named five, not six.
    const sixth = people[5]!;
    harness!.graph.tenant.removeUser(sixth.id);
    const grown = await run(['--allow-deletes']);
    expect(grown.code).toBe(4);
    expect(rowsWith(grown.rows, 'disabled')).toEqual([]);
    expect(grown.summary).toMatch(/The approval given named another list: 1 of these users were not on it/);

    const approved = await run(['--allow-deletes', '6']);
    expect(approved.code).toBe(0);
    expect(rowsWith(approved.rows, 'disabled').sort()).toEqual(ids([...firstLeavers, sixth]));
    const approver = userInfo().username;
    for (const row of approved.rows.filter((candidate) => candidate.action === 'disabled')) {
      expect(String(row.message)).toContain(`approved by ${approver}`);
    }
    expect(approved.summary).toContain(`Applied the held list approved by ${approver}.`);

    // The list is used up: the next bare approval approves nothing.
    const after = await run(['--allow-deletes']);
    expect(after.code).toBe(0);
    expect(rowsWith(after.rows, 'disabled')).toEqual([]);
  });

  it('a bare --allow-deletes with nothing held before is no blank cheque: the removals are held and listed', async () => {
    const people = await syncedTenant(15, 72, { safety: { maxDeletes: 1 } });
    for (const person of people.slice(0, 3)) harness!.graph.tenant.removeUser(person.id);
    const result = await run(['--allow-deletes']);
    expect(result.code).toBe(4);
    expect(rowsWith(result.rows, 'disabled')).toEqual([]);
    expect(rowsWith(result.rows, 'held')).toHaveLength(3);
    expect(result.summary).toContain('--allow-deletes approves nothing: no removals were held before');
  });

  it('a cycle whose query returns no users is called out first and removes no one even under maxDeletes', async () => {
    await syncedTenant(12, 73, { safety: { maxDeletes: '100%' } });
    // A typo in the filter: the query now matches nobody.
    await harness!.writeConfig({
      actions: { delete: 'soft' },
      safety: { maxDeletes: '100%' },
      source: { users: { filter: "department eq 'Sales-typo'" } },
    });
    const result = await run();
    expect(result.code).toBe(4);
    expect(rowsWith(result.rows, 'disabled')).toEqual([]);
    expect(rowsWith(result.rows, 'held')).toHaveLength(12);
    const firstLines = result.summary.split('\n').slice(0, 4).join('\n');
    expect(firstLines).toContain(
      '**Likely cause: the cycle read no users from Entra while the job manages 12',
    );
    expect(String(result.rows.find((row) => row.action === 'held')?.message)).toContain('--allow-deletes 12');
  });

  it('from the Action: the hint names the workflow input, and allow-deletes pinned to the count records GITHUB_ACTOR', async () => {
    const people = await syncedTenant(20, 74, { safety: { maxDeletes: 2 } });
    const leavers = people.slice(0, 4);
    for (const person of leavers) harness!.graph.tenant.removeUser(person.id);
    let runs = 0;
    const action = async (inputs: Record<string, string>) => {
      const files = await runnerFiles(harness!.directory, `action-${++runs}`);
      const out = join(harness!.directory, `action-out-${runs}`);
      const result = await startActionMain(
        { config: harness!.configPath, out, ...inputs },
        { ...harness!.env, GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octo-admin' },
        files,
      ).result;
      return {
        ...result,
        summary: await readFile(files.summary, 'utf8'),
        rows: await harness!.readResults(out),
      };
    };
    const held = await action({});
    expect(held.summary).toContain("run the workflow again with the input `allow-deletes: '4'`");
    const approved = await action({ 'allow-deletes': '4' });
    expect(approved.code).toBe(0);
    const disabled = approved.rows.filter((row) => row.action === 'disabled');
    expect(disabled.map((row) => String(row.objectId)).sort()).toEqual(ids(leavers));
    for (const row of disabled) expect(String(row.message)).toContain('approved by octo-admin');
    expect(approved.summary).toContain('Applied the held list approved by octo-admin.');
  });
});
