// Inputs and outputs of dist/index.js as a workflow uses them: the self-test as a command
// (over GitHub OIDC too), hints that name inputs, the outcome and held outputs, the
// default output directory an artifact upload can name, and a user: run.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { readOutputs, runnerFiles, startActionMain } from '../support/action-process.ts';
import { type GitHubOidcServer, gitHubIssuer, startGitHubOidcServer } from '../support/github-oidc-server.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { annotations } from '../support/workflow-commands.ts';

let harness: SyncHarness | undefined;
let github: GitHubOidcServer | undefined;

afterEach(async () => {
  await harness?.stop();
  await github?.close();
  harness = undefined;
  github = undefined;
});

/** Runs the step in its own runner files; returns what the run page and the next steps see. */
async function step(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}, name = 'step') {
  const files = await runnerFiles(harness!.directory, name);
  const result = await startActionMain(
    { config: harness!.configPath, ...inputs },
    { ...harness!.env, ...env },
    files,
  ).result;
  return {
    ...result,
    files,
    outputs: await readOutputs(files),
    summary: await readFile(files.summary, 'utf8'),
  };
}

const cliFlags = /--(allow-deletes|allow-adoptions|job|dry-run|config)\b|entra-wp-sync (check|state)/;

describe('command: check', () => {
  it('runs the self-test over GitHub OIDC, one row per check in the summary, and writes nothing', async () => {
    const subject = 'repo:contoso/intranet-sync:environment:production';
    github = await startGitHubOidcServer(subject);
    harness = await startSyncHarness(generateUsers(5, 381), {
      federatedCredentials: [{ issuer: gitHubIssuer, subject, audiences: ['api://AzureADTokenExchange'] }],
    });
    await harness.writeConfig();
    const before = await harness.wordpressUsers();

    const result = await step(
      { command: 'check' },
      { AZURE_CLIENT_SECRET: '', GITHUB_ACTIONS: 'true', ...github.env },
    );

    expect(result.code, result.stdout).toBe(0);
    expect(annotations(result.stdout)).toEqual([]);
    expect(result.outputs).toEqual({ outcome: 'ok' });
    expect(result.summary).toContain('## entra-wp-sync: self-test passed');
    expect(result.summary).toMatch(/^\| pass \| staff: Entra token \| github-oidc for app /m);
    expect(result.summary).toMatch(/^\| pass \| staff: job query \| 5 users \|$/m);
    expect(github.issued).toHaveLength(1);
    expect(await harness.wordpressUsers()).toEqual(before);
  });

  it('a failed check is one error titled with the check, and the hint names what to grant', async () => {
    harness = await startSyncHarness(generateUsers(2, 382), { permissions: [] });
    await harness.writeConfig();
    const result = await step({ command: 'check' });

    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toEqual([
      {
        command: 'error',
        properties: { title: 'Self-test failed: staff: Graph permission User.Read.All' },
        message: expect.stringContaining(
          'Grant the app registration the application permissions User.Read.All',
        ),
      },
    ]);
    expect(result.outputs).toEqual({ outcome: 'failed' });
    expect(result.summary).toMatch(/^\| \*\*FAIL\*\* \| staff: Graph permission User\.Read\.All \| /m);
  });
});

describe('hints', () => {
  it('name the workflow inputs, never CLI flags: an unknown job, and an approval of the wrong count', async () => {
    const people = generateUsers(8, 383);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ actions: { delete: 'soft' }, safety: { maxDeletes: 1 } });
    expect((await step({}, {}, 'first')).code).toBe(0);

    const unknown = await step({ job: 'staf' }, {}, 'unknown-job');
    expect(unknown.code).toBe(1);
    expect(annotations(unknown.stdout)).toEqual([
      expect.objectContaining({ message: expect.stringContaining('Did you mean the input job: staff?') }),
    ]);

    for (const person of people.slice(0, 3)) harness.graph.tenant.removeUser(person.id);
    expect((await step({}, {}, 'held')).outputs.held).toBe('3');
    const wrong = await step({ 'allow-deletes': '40' }, {}, 'wrong-count');
    expect(annotations(wrong.stdout)).toContainEqual({
      command: 'warning',
      properties: { title: 'staff: approval not applied' },
      message: expect.stringMatching(
        /^allow-deletes: '40' approves nothing: the held list \(run \S+\) has 3 removals, not 40; check the list again, then approve with allow-deletes: '3'\.$/,
      ),
    });
    expect(wrong.summary).toContain("**Approval not applied:** allow-deletes: '40' approves nothing");
    for (const text of [unknown.stdout, unknown.summary, wrong.stdout, wrong.summary]) {
      expect(text).not.toMatch(cliFlags);
    }
  });
});

describe('outputs', () => {
  it('a held removal: outcome held and the held count, a warning with fail-on never; approving it: outcome ok', async () => {
    const people = generateUsers(8, 384);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ actions: { delete: 'soft' }, safety: { maxDeletes: 1 } });
    expect((await step({}, {}, 'first')).outputs).toMatchObject({ outcome: 'ok', held: '0', created: '8' });
    for (const person of people.slice(0, 3)) harness.graph.tenant.removeUser(person.id);

    const held = await step({}, {}, 'held');
    expect(held.code).toBe(1);
    expect(held.outputs).toMatchObject({ outcome: 'held', held: '3', disabled: '0', complete: 'true' });
    expect(annotations(held.stdout)).toEqual([
      {
        command: 'error',
        properties: { title: 'staff: 3 removals held for approval' },
        message:
          "3 users would be disabled, more than safety.maxDeletes allows (1 of 8 managed users); nothing was removed. Check the list in the step summary; if it is right, run the workflow again with the input allow-deletes: '3' (approves exactly these 3).",
      },
    ]);

    const waiting = await step({ 'fail-on': 'never' }, {}, 'never');
    expect(waiting.code).toBe(0);
    expect(waiting.outputs).toMatchObject({ outcome: 'held', held: '3' });
    expect(annotations(waiting.stdout).map((annotation) => annotation.command)).toEqual(['warning']);

    const approved = await step({ 'allow-deletes': '3' }, { GITHUB_ACTOR: 'octo-admin' }, 'approved');
    expect(approved.code, approved.stdout).toBe(0);
    expect(approved.outputs).toMatchObject({ outcome: 'ok', held: '0', disabled: '3' });
    expect(annotations(approved.stdout)).toEqual([]);
  });

  it('reports go to entra-wp-sync-out/<run id>-<attempt> in the workspace by default, so a re-run keeps its own', async () => {
    harness = await startSyncHarness(generateUsers(3, 385));
    await harness.writeConfig();
    const attempt = async (number: string) => {
      const result = await step(
        {},
        { GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: number },
        `attempt-${number}`,
      );
      expect(result.code, result.stdout).toBe(0);
      const directory = join(result.files.workspace, 'entra-wp-sync-out', `4242-${number}`);
      expect(result.outputs['results-path']).toBe(join(directory, 'results.jsonl'));
      expect(result.outputs['summary-path']).toBe(join(directory, 'summary.md'));
      await access(join(directory, 'results.csv'));
      return result;
    };
    expect((await attempt('1')).outputs.created).toBe('3');
    expect((await attempt('2')).outputs.unchanged).toBe('3');
  });

  it('a user: run says which user it synced and reports no cycle progress', async () => {
    const people = generateUsers(4, 386);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ limits: { pageSize: 2 } });
    const upn = people[2]!.userPrincipalName;
    const result = await step({ user: upn, out: join(harness.directory, 'out') });

    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ created: '1', complete: 'true', outcome: 'ok' });
    expect(result.summary).toContain(
      `Synced one Entra user (${upn}) on its own; the job's cycle was not read or moved.`,
    );
    expect(result.summary).not.toMatch(/Cycle (complete|in progress)|pages/);
    expect(result.stdout).toContain(
      `staff: 1 created; synced one Entra user (${upn}), the cycle was not moved;`,
    );
  });
});
