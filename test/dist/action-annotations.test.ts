// What the run page shows: one annotation per problem, each with a title; a configuration
// problem on its line of jobs.yaml; users that failed as one warning per reason (capped);
// and fail-on deciding whether users that failed turn the step red.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { readOutputs, runnerFiles, startActionMain } from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { annotations } from '../support/workflow-commands.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** jobs.yaml checked out in the workspace, as a workflow has it, with `edit` applied. */
async function checkedOutConfig(harness: SyncHarness, workspace: string, edit = (text: string) => text) {
  await writeFile(join(workspace, 'jobs.yaml'), edit(await readFile(harness.configPath, 'utf8')));
}

/** Ten users, seven of whom WordPress cannot take, for six different reasons. */
function tenantWithSixReasons(): FakeUser[] {
  const people = generateUsers(10, 351);
  const odd = (index: number, fields: Partial<FakeUser> & Record<string, unknown>) => {
    people[index] = { ...people[index]!, ...fields };
  };
  odd(0, { mail: 'Sales Team' });
  odd(1, { mail: 'Finance Team' });
  odd(2, { mail: `${'m'.repeat(89)}@contoso.com` });
  odd(3, { userPrincipalName: `${'a'.repeat(49)}@contoso.com` });
  odd(4, { userPrincipalName: "o'brien@contoso.com" });
  odd(5, { userPrincipalName: '', mail: null, otherMails: [], identities: [] });
  odd(6, { mail: 'shared@contoso.com' });
  odd(7, { mail: 'shared@contoso.com' });
  return people;
}

describe('annotations', () => {
  it('a typo in jobs.yaml is one error on its line of the file, titled, and nothing runs', async () => {
    harness = await startSyncHarness(generateUsers(3, 352));
    await harness.writeConfig({ actions: { delete: 'soft' } });
    const files = await runnerFiles(harness.directory);
    await checkedOutConfig(harness, files.workspace, (text) => text.replace('delete: soft', 'delete: sofft'));
    const lineOfTypo =
      (await readFile(join(files.workspace, 'jobs.yaml'), 'utf8'))
        .split('\n')
        .findIndex((line) => line.includes('sofft')) + 1;

    const result = await startActionMain({ config: 'jobs.yaml' }, harness.env, files).result;

    expect(result.code).toBe(1);
    const [typo, ...others] = annotations(result.stdout);
    expect(others).toEqual([]);
    expect(typo).toMatchObject({
      command: 'error',
      properties: {
        title: 'Configuration error, nothing was changed',
        file: 'jobs.yaml',
        line: String(lineOfTypo),
        col: expect.stringMatching(/^\d+$/),
      },
    });
    expect(typo?.message).toContain(
      'jobs[0].actions.delete: must be one of none, soft, hard (got "sofft"; did you mean "soft"?)',
    );
    // The hint is worded for a workflow: an input, not a CLI command.
    expect(typo?.message).toContain('run the action with the input `command: check`');
    expect(typo?.message).not.toContain('entra-wp-sync check');
    expect(await readOutputs(files)).toEqual({ outcome: 'failed' });
    expect(harness.graph.requests).toEqual([]);
  });

  it('a job that fails is one error titled with the job and the side that failed, not one from the log and one from the step', async () => {
    harness = await startSyncHarness(generateUsers(3, 353));
    await harness.writeConfig();
    const files = await runnerFiles(harness.directory);
    const env = { ...harness.env, WORDPRESS_APP_PASSWORD: 'abcd efgh ijkl mnop qrst uvwx' };
    const result = await startActionMain({ config: harness.configPath }, env, files).result;

    expect(result.code).toBe(1);
    const [failure, ...others] = annotations(result.stdout);
    expect(others).toEqual([]);
    expect(failure).toMatchObject({ command: 'error', properties: { title: 'staff failed: WordPress' } });
    expect(failure?.message).toMatch(/^WordPress did not accept the application password for "admin"/);
    expect(failure?.message).toContain('\nhint: Create an application password');
  });

  it('users that failed: one warning per reason with the count and two of them, capped, and fail-on decides the step', async () => {
    harness = await startSyncHarness(tenantWithSixReasons());
    // strict: usernames WordPress refuses stay reasons of their own (derive would make them up).
    await harness.writeConfig({ usernames: 'strict' });
    const run = async (failOn: string) => {
      const files = await runnerFiles(harness!.directory, `fail-on-${failOn}`);
      const result = await startActionMain(
        { config: harness!.configPath, 'fail-on': failOn },
        harness!.env,
        files,
      ).result;
      return { ...result, outputs: await readOutputs(files) };
    };

    const partial = await run('partial');
    const warnings = annotations(partial.stdout).filter((annotation) => annotation.command === 'warning');
    // Five reasons by name (GitHub shows ten warnings a step), then how many more.
    expect(warnings.map((warning) => warning.properties.title)).toEqual([
      'staff: 2 users not synced',
      'staff: 1 user not synced',
      'staff: 1 user not synced',
      'staff: 1 user not synced',
      'staff: 1 user not synced',
      'staff: more users not synced',
    ]);
    expect(warnings[0]?.message).toMatch(
      /^"Sales Team" is not an email address WordPress accepts .*\(2 users, e\.g\. \S+@contoso\.com, \S+@contoso\.com\)$/,
    );
    expect(warnings[5]?.message).toBe(
      '…and 1 more reason (1 user); the step summary and results.csv list every one.',
    );
    expect(partial.code).toBe(1);
    expect(annotations(partial.stdout).filter((annotation) => annotation.command === 'error')).toEqual([
      expect.objectContaining({
        properties: { title: 'Users not synced' },
        message: expect.stringContaining('7 users could not be synced'),
      }),
    ]);
    expect(partial.outputs).toMatchObject({ outcome: 'partial', failed: '7' });

    // Two permanent data problems need not turn every scheduled run red.
    for (const failOn of ['error', 'never']) {
      const green = await run(failOn);
      expect(green.code, failOn).toBe(0);
      expect(annotations(green.stdout).filter((annotation) => annotation.command === 'error')).toEqual([]);
      expect(annotations(green.stdout).filter((annotation) => annotation.command === 'warning')).toHaveLength(
        6,
      );
      expect(green.outputs).toMatchObject({ outcome: 'partial', failed: '7' });
    }
  });

  it('fail-on must be error, partial or never', async () => {
    harness = await startSyncHarness(generateUsers(1, 354));
    await harness.writeConfig();
    const result = await startActionMain(
      { config: harness.configPath, 'fail-on': 'warnings' },
      harness.env,
      await runnerFiles(harness.directory),
    ).result;
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toEqual([
      expect.objectContaining({
        command: 'error',
        message: expect.stringContaining(
          'The input fail-on must be error, partial or never (got "warnings").',
        ),
      }),
    ]);
    expect(harness.graph.requests).toEqual([]);
  });
});
