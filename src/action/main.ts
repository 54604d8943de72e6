// The GitHub Action entry: the only module that imports @actions/core. It reads the
// inputs, masks secrets, runs the same job runner as the CLI, and reports back.
import * as core from '@actions/core';
import { loadConfig, selectJobs } from '../config/load.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import { onSecret } from '../log/secrets.ts';
import { actionsRunUrl, renderSummaryMarkdown } from '../report/run-summary.ts';
import { resetState } from '../sync/reset-state.ts';
import { runJobs } from '../sync/run-jobs.ts';
import { actionsLogger } from './actions-logger.ts';

/** Environment variables whose values must never show in a log. */
const secretVariables = [
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'WORDPRESS_APP_PASSWORD',
  'SMTP_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
];

const stepSummaryLimit = 1024 * 1024 - 4096;

export async function runAction(): Promise<void> {
  // Tokens fetched during the run (GitHub's OIDC token) are masked the moment they exist.
  onSecret((value) => core.setSecret(value));
  for (const name of secretVariables) {
    const value = process.env[name];
    if (value) core.setSecret(value);
  }
  try {
    const configPath = core.getInput('config') || 'jobs.yaml';
    const job = core.getInput('job');
    const config = await loadConfig(configPath, process.env);
    for (const resolved of config.jobs) {
      const password = process.env[resolved.wordpress.applicationPasswordEnv];
      if (password) core.setSecret(password);
    }
    const selected = selectJobs(config, job ? [job] : undefined);
    if (booleanInput('reset-state')) {
      for (const resolved of selected) await resetState(resolved, process.env);
      core.info(
        `Checkpoints cleared for ${selected.map((resolved) => resolved.name).join(', ')}; a new cycle starts.`,
      );
    }
    const outcome = await runJobs({
      config,
      jobs: selected,
      singleUser: core.getInput('user') || undefined,
      dryRun: booleanInput('dry-run'),
      allowDeletes: booleanInput('allow-deletes'),
      allowAdoptions: booleanInput('allow-adoptions'),
      outDir: core.getInput('out') || undefined,
      env: process.env,
      logger: actionsLogger,
    });
    const total = (action: string) =>
      outcome.summaries.reduce((sum, summary) => sum + (summary.counts[action] ?? 0), 0);
    for (const action of [
      'created',
      'adopted',
      'updated',
      'disabled',
      'deleted',
      'restored',
      'unchanged',
      'failed',
    ]) {
      core.setOutput(action, total(action));
    }
    core.setOutput(
      'complete',
      outcome.summaries.every((summary) => summary.cycleComplete),
    );
    core.setOutput('results-path', outcome.resultsPath);
    core.setOutput('summary-path', outcome.summaryPath);
    const links = { resultsUrl: actionsRunUrl(process.env) };
    const markdown = renderSummaryMarkdown(outcome.summaries, links);
    // The step summary fails over 1 MiB: fall back to counts and progress only.
    const short = `${renderSummaryMarkdown(
      outcome.summaries.map((summary) => ({ ...summary, errorGroups: [] })),
      links,
    )}\n\nThe full summary with every error is in ${outcome.summaryPath}.`;
    // Local runs (@github/local-action, a shell) may have no step summary file.
    if (process.env.GITHUB_STEP_SUMMARY) {
      await core.summary
        .addRaw(Buffer.byteLength(markdown) <= stepSummaryLimit ? markdown : short.slice(0, stepSummaryLimit))
        .write();
    }
    if (outcome.exitCode !== ExitCode.ok) {
      core.setFailed(
        failureMessage(
          outcome.exitCode,
          outcome.summaries.map((summary) => summary.fatalError),
        ),
      );
    }
  } catch (error) {
    core.setFailed(describeError(error));
    if (error instanceof ActionableError && error.exitCode === ExitCode.usage) {
      core.error('The configuration or the inputs are wrong; nothing was changed.');
    }
  }
}

/** The runner fills in action.yml defaults; local runs (@github/local-action) may not. */
function booleanInput(name: string): boolean {
  return core.getInput(name) === '' ? false : core.getBooleanInput(name);
}

function failureMessage(exitCode: number, fatal: Array<string | undefined>): string {
  if (exitCode === ExitCode.partial)
    return 'Some users could not be synced; see the results file for the reasons.';
  if (exitCode === ExitCode.deletesHeld)
    return 'Removals or adoptions were held back for a person to approve; see the summary, then approve with allow-deletes or allow-adoptions.';
  return fatal.filter(Boolean).join('\n') || 'The sync failed.';
}
