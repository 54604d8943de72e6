// The example workflows, as an administrator copies them: each step of ours is run the way
// the runner would, its `with:` and `env:` evaluated from the event (GitHub's expression
// rules), jobs.yaml checked out in the workspace, GitHub OIDC for the sign-in, against the
// real WordPress and the fake Entra; and what each example promises about artifacts,
// pinning, credentials and concurrency is checked in the file itself.
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { readOutputs, runnerFiles, startActionMain } from '../support/action-process.ts';
import { type GitHubOidcServer, gitHubIssuer, startGitHubOidcServer } from '../support/github-oidc-server.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { annotations } from '../support/workflow-commands.ts';
import { type ExpressionContext, evaluateTemplate } from '../support/workflow-expressions.ts';

interface Step {
  id?: string;
  uses?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Workflow {
  on: Record<string, unknown>;
  concurrency: { group: string; 'cancel-in-progress': boolean; queue?: string };
  jobs: Record<string, { environment?: string; steps: Step[] }>;
}

const examples = ['manual-sync.yml', 'scheduled-sync.yml', 'triggered-sync.yml'];
const text = (name: string) => readFile(new URL(`../../examples/${name}`, import.meta.url), 'utf8');
const workflow = async (name: string) => parse(await text(`workflows/${name}`)) as Workflow;
const steps = (flow: Workflow) => Object.values(flow.jobs).flatMap((job) => job.steps);
const ourStep = (flow: Workflow) => steps(flow).find((step) => step.uses?.includes('/entra-wp-sync@'))!;
const productionSubject = 'repo:contoso/intranet-sync:environment:production';
/** `${{ github.run_id }}-${{ github.run_attempt }}` as a workflow writes it. */
const runAndAttempt = `\${{ github.run_id }}-\${{ github.run_attempt }}`;

let harness: SyncHarness | undefined;
let github: GitHubOidcServer | undefined;

afterEach(async () => {
  await harness?.stop();
  await github?.close();
  harness = undefined;
  github = undefined;
});

/** A site, a tenant and an app that trusts the examples' `environment: production`. */
async function setUp() {
  github = await startGitHubOidcServer(productionSubject);
  harness = await startSyncHarness(generateUsers(5, 391), {
    federatedCredentials: [
      { issuer: gitHubIssuer, subject: productionSubject, audiences: ['api://AzureADTokenExchange'] },
    ],
  });
  await harness.writeConfig();
}

/** The example's step of this action, run as the runner would for this event. */
async function runExampleStep(name: string, event: ExpressionContext, attempt = '1') {
  const flow = await workflow(name);
  const step = ourStep(flow);
  const context: ExpressionContext = {
    github: { event, run_id: '5150', run_attempt: attempt, repository: 'contoso/intranet-sync' },
    inputs: (event.inputs as ExpressionContext | undefined) ?? {},
    vars: { AZURE_TENANT_ID: harness!.graph.tenantId, AZURE_CLIENT_ID: 'from-vars' },
    secrets: { WORDPRESS_APP_PASSWORD: harness!.site.appPassword },
  };
  const evaluate = (values: Record<string, unknown> = {}) =>
    Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, evaluateTemplate(String(value), context)]),
    );
  const files = await runnerFiles(harness!.directory, `${name}-${attempt}`);
  // actions/checkout put the repository, jobs.yaml with it, in the workspace.
  await writeFile(join(files.workspace, 'jobs.yaml'), await readFile(harness!.configPath, 'utf8'));
  const env = {
    ...harness!.env,
    ...evaluate(step.env),
    AZURE_CLIENT_SECRET: '',
    GITHUB_ACTIONS: 'true',
    GITHUB_RUN_ID: '5150',
    GITHUB_RUN_ATTEMPT: attempt,
    ...github!.env,
  };
  const inputs = evaluate(step.with);
  const result = await startActionMain(inputs, env, files).result;
  const upload = steps(flow).find((candidate) => candidate.uses?.startsWith('actions/upload-artifact@'))!;
  return {
    ...result,
    inputs,
    outputs: await readOutputs(files),
    summary: await readFile(files.summary, 'utf8'),
    uploaded: join(files.workspace, evaluateTemplate(String(upload.with?.path), context)),
  };
}

const isPreview = (summary: string) =>
  summary.startsWith('## entra-wp-sync: staff (preview, nothing written)');

describe('the example workflows', () => {
  it.each(examples)(
    '%s uploads the reports as an artifact named for the run attempt, kept 7 days, and says it holds every email',
    async (name) => {
      const flow = await workflow(name);
      const upload = steps(flow).find((step) => step.uses?.startsWith('actions/upload-artifact@'));
      expect(upload, 'an upload-artifact step').toBeDefined();
      expect(upload!.if).toBe('always()');
      expect(upload!.with).toMatchObject({
        name: `entra-wp-sync-${runAndAttempt}`,
        path: `entra-wp-sync-out/${runAndAttempt}/`,
        'retention-days': 7,
      });
      expect(await text(`workflows/${name}`)).toContain(
        "The\n      # artifact holds every user's email and object ID",
      );
    },
  );

  it.each(examples)(
    '%s pins third-party actions to a commit SHA with the release beside it, and checks out without credentials',
    async (name) => {
      const lines = (await text(`workflows/${name}`))
        .split('\n')
        .filter((line) => /^\s+(- )?uses: /.test(line));
      const thirdParty = lines.filter((line) => !line.includes('OWNER/entra-wp-sync@'));
      expect(thirdParty.length).toBeGreaterThanOrEqual(2);
      for (const line of thirdParty)
        expect(line).toMatch(/uses: [\w-]+\/[\w-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      const checkout = steps(await workflow(name)).find((step) => step.uses?.startsWith('actions/checkout@'));
      expect(checkout?.with?.['persist-credentials']).toBe(false);
    },
  );

  it('Dependabot keeps the pinned actions current', async () => {
    const config = parse(await text('dependabot.yml')) as {
      version: number;
      updates: Array<{ 'package-ecosystem': string; directory: string }>;
    };
    expect(config.version).toBe(2);
    expect(config.updates).toContainEqual(
      expect.objectContaining({ 'package-ecosystem': 'github-actions', directory: '/' }),
    );
  });

  it('all share one concurrency group that never cancels a run in progress and queues the rest in order', async () => {
    for (const name of examples) {
      expect((await workflow(name)).concurrency, name).toEqual({
        group: 'entra-wp-sync',
        'cancel-in-progress': false,
        queue: 'max',
      });
    }
  });

  it('repository_dispatch previews unless dry_run is false, whatever JSON type the caller sends', async () => {
    await setUp();
    const before = (await harness!.wordpressUsers()).length;
    const previews: ExpressionContext[] = [
      {},
      { dry_run: true },
      { dry_run: 'true' },
      { dry_run: 'yes' },
      { dry_run: null },
    ];
    for (const payload of previews) {
      const run = await runExampleStep('triggered-sync.yml', {
        client_payload: { job: 'staff', ...payload },
      });
      expect(run.code, JSON.stringify(payload)).toBe(0);
      expect(isPreview(run.summary), JSON.stringify(payload)).toBe(true);
    }
    expect(await harness!.wordpressUsers()).toHaveLength(before);

    const sync = await runExampleStep('triggered-sync.yml', {
      client_payload: { job: 'staff', dry_run: false },
    });
    expect(sync.code, sync.stdout).toBe(0);
    expect(isPreview(sync.summary)).toBe(false);
    expect(sync.outputs).toMatchObject({ created: '5', outcome: 'ok' });
    expect(await harness!.wordpressUsers()).toHaveLength(before + 5);
    const asText = await runExampleStep('triggered-sync.yml', { client_payload: { dry_run: 'false' } }, '2');
    expect(isPreview(asText.summary)).toBe(false);
    expect(asText.outputs).toMatchObject({ unchanged: '5', outcome: 'ok' });
  });

  it('manual: the self-test, a preview by default, then a sync whose reports are where the upload step looks', async () => {
    await setUp();
    const check = await runExampleStep('manual-sync.yml', { inputs: { command: 'check', 'dry-run': true } });
    expect(check.code, check.stdout).toBe(0);
    expect(check.summary).toContain('## entra-wp-sync: self-test passed');

    const preview = await runExampleStep('manual-sync.yml', {
      inputs: { command: 'run', job: '', 'dry-run': true, 'allow-deletes': '', 'allow-adoptions': '' },
    });
    expect(isPreview(preview.summary)).toBe(true);

    const sync = await runExampleStep(
      'manual-sync.yml',
      {
        inputs: {
          command: 'run',
          job: 'staff',
          'dry-run': false,
          'allow-deletes': '',
          'allow-adoptions': '',
        },
      },
      '2',
    );
    expect(sync.code, sync.stdout).toBe(0);
    expect(sync.outputs).toMatchObject({ created: '5', outcome: 'ok' });
    await access(join(sync.uploaded, 'results.csv'));
    expect(sync.outputs['results-path']).toBe(join(sync.uploaded, 'results.jsonl'));
  });

  it('scheduled: users WordPress cannot take stay warnings, and the reports are where the upload step looks', async () => {
    await setUp();
    harness!.graph.tenant.updateUser(harness!.graph.tenant.users()[0]!.id, { mail: 'Sales Team' });
    const run = await runExampleStep('scheduled-sync.yml', {});
    expect(run.inputs['fail-on']).toBe('error');
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ outcome: 'partial', failed: '1', created: '4' });
    expect(annotations(run.stdout).map((annotation) => annotation.command)).toEqual(['warning']);
    await access(join(run.uploaded, 'summary.md'));
  });
});
