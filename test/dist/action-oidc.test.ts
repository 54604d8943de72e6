// Signing in with GitHub OIDC as the runner offers it (ACTIONS_ID_TOKEN_REQUEST_URL and
// _TOKEN, no client secret), against the fake Entra's federated credentials: one GitHub
// token serves every Entra token request while it is valid, and a federated credential
// that does not match says exactly what the token carries.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { readOutputs, runnerFiles, startActionMain } from '../support/action-process.ts';
import { type GitHubOidcServer, gitHubIssuer, startGitHubOidcServer } from '../support/github-oidc-server.ts';
import { type SyncHarness, startSyncHarness, testTenantId } from '../support/sync-harness.ts';
import { annotations } from '../support/workflow-commands.ts';

let harness: SyncHarness | undefined;
let github: GitHubOidcServer | undefined;

afterEach(async () => {
  await harness?.stop();
  await github?.close();
  harness = undefined;
  github = undefined;
});

const productionSubject = 'repo:contoso/intranet-sync:environment:production';

/** Two jobs (two Entra token requests), an app that trusts the production environment only. */
async function federatedSetup() {
  github = await startGitHubOidcServer(productionSubject);
  harness = await startSyncHarness(generateUsers(12, 341), {
    federatedCredentials: [
      { issuer: gitHubIssuer, subject: productionSubject, audiences: ['api://AzureADTokenExchange'] },
    ],
  });
  await harness.writeConfig(
    {},
    {
      jobs: [
        { name: 'engineering', source: { users: { filter: "department eq 'Engineering'" } } },
        { name: 'sales', source: { users: { filter: "department eq 'Sales'" } } },
      ],
    },
  );
  // What the runner gives a job with `permissions: id-token: write`; no client secret.
  const env = { ...harness.env, AZURE_CLIENT_SECRET: '', GITHUB_ACTIONS: 'true', ...github.env };
  return {
    harness,
    github,
    env,
    inputs: { config: harness.configPath, out: join(harness.directory, 'out') },
  };
}

const entraTokenRequests = (harness: SyncHarness) =>
  harness.graph.requests.filter(
    (request) => request.method === 'POST' && request.path === `/${testTenantId}/oauth2/v2.0/token`,
  ).length;

const maskLines = (stdout: string, token: string) =>
  stdout.split('\n').filter((line) => line === `::add-mask::${token}`).length;

describe('GitHub OIDC', () => {
  it('fetches one GitHub token for every Entra token request of the run while it is valid, and masks it once', async () => {
    const { harness, github, env, inputs } = await federatedSetup();
    const files = await runnerFiles(harness.directory);
    const result = await startActionMain(inputs, env, files).result;

    expect(result.code, result.stdout).toBe(0);
    expect(await readOutputs(files)).toMatchObject({ created: '4', outcome: 'ok' });
    // Each job signs in once; both use the same GitHub token.
    expect(entraTokenRequests(harness)).toBe(2);
    expect(github.issued).toHaveLength(1);
    expect(maskLines(result.stdout, github.issued[0]!)).toBe(1);
  });

  it('does not send a token in its last minute: a short-lived one is fetched again, once per Entra token request', async () => {
    const { harness, github, env, inputs } = await federatedSetup();
    github.lifetimeSeconds = 45;
    const result = await startActionMain(inputs, env, await runnerFiles(harness.directory)).result;

    expect(result.code, result.stdout).toBe(0);
    expect(entraTokenRequests(harness)).toBe(2);
    expect(github.issued).toHaveLength(2);
    expect(result.stdout).not.toContain('AADSTS700024');
  });

  it('AADSTS700213: the annotation shows the subject, issuer and audience of the token to copy into Entra', async () => {
    const { harness, github, env, inputs } = await federatedSetup();
    // The workflow runs without `environment: production`: GitHub's subject names the branch.
    github.subject = 'repo:contoso/intranet-sync:ref:refs/heads/main';
    const files = await runnerFiles(harness.directory);
    const result = await startActionMain({ ...inputs, job: 'engineering' }, env, files).result;

    expect(result.code).toBe(1);
    const [failure, ...others] = annotations(result.stdout);
    expect(others).toEqual([]);
    expect(failure).toMatchObject({
      command: 'error',
      properties: { title: 'engineering failed: Entra ID / Microsoft Graph' },
    });
    expect(failure?.message).toContain(
      'The token has subject "repo:contoso/intranet-sync:ref:refs/heads/main", issuer "https://token.actions.githubusercontent.com" and audience "api://AzureADTokenExchange".',
    );
    expect(failure?.message).toContain('AADSTS700213');
    expect(failure?.message).toContain('Federated credentials');
    expect(await readOutputs(files)).toMatchObject({ outcome: 'failed', created: '0' });

    // The self-test says the same, on the Entra token line.
    const check = await startActionMain(
      { ...inputs, command: 'check', job: 'engineering' },
      env,
      await runnerFiles(harness.directory, 'check'),
    ).result;
    expect(check.code).toBe(1);
    expect(annotations(check.stdout)).toEqual([
      expect.objectContaining({
        command: 'error',
        properties: { title: 'Self-test failed: engineering: Entra token' },
        message: expect.stringContaining('subject "repo:contoso/intranet-sync:ref:refs/heads/main"'),
      }),
    ]);
  });
});
