// The GitHub Action entry: the only place, with the other modules of src/action, that
// imports @actions/core. It reads the inputs, masks secrets, runs the same job runner as
// the CLI (or its self-test), and reports back: annotations, log groups, the step summary
// and the outputs.
import { hostname } from 'node:os';
import * as core from '@actions/core';
import { lockPlaceOf } from '../app/release-lock.ts';
import { resetState } from '../app/reset-state.ts';
import { newRunId, runJobs } from '../app/run-jobs.ts';
import { readVariable, secretValues } from '../config/environment.ts';
import { loadConfig, selectJobs } from '../config/load.ts';
import type { LoadedConfig } from '../config/resolve.ts';
import { ExitCode } from '../errors.ts';
import { onSecret } from '../log/secrets.ts';
import { type ApprovalRequest, parseApprovalPin } from '../rules/approvals.ts';
import { actionsRunUrl } from '../runtime/actions-run.ts';
import { secretInputNames } from './action-metadata.ts';
import { actionsLogger } from './actions-logger.ts';
import { annotateJobs, annotatePartialFailure, annotateStartFailure } from './annotations.ts';
import type { Cancellation } from './cancellation.ts';
import {
  type ActionInputs,
  actionInputsFrom,
  commandFrom,
  defaultMaxRuntime,
  defaultOutDir,
  type FailOn,
  failOnFrom,
  formatSeconds,
  refusePreviewThatResets,
} from './inputs.ts';
import { jobLog } from './job-log.ts';
import { failsStep, outcomeOf } from './outcome.ts';
import { setOutput, setRunOutputs } from './outputs.ts';
import { saveLocksReleased, saveRun } from './run-state.ts';
import { runSelfTestStep } from './self-test-step.ts';
import { writeRunSummary, writeStartFailureSummary } from './step-summary.ts';
import { cancelledNotice, PageTracker, reportForcedStop } from './stop-report.ts';

/** Each secret once: every add-mask line is another copy of the secret in the raw log. */
const masked = new Set<string>();
function mask(value: string | undefined): void {
  if (!value || masked.has(value)) return;
  masked.add(value);
  core.setSecret(value);
}

export async function runAction(cancellation: Cancellation): Promise<void> {
  // Tokens fetched during the run (GitHub's OIDC token) are masked the moment they exist.
  onSecret(mask);
  for (const value of secretValues(process.env)) mask(value);
  const inputs = actionInputsFrom(core.getInput);
  for (const name of secretInputNames) mask(inputs.text(name));
  let failOn: FailOn = 'partial';
  try {
    failOn = failOnFrom(inputs.text('fail-on'));
    const command = commandFrom(inputs.text('command'));
    const configPath = inputs.text('config');
    if (command === 'check') {
      // The self-test reports a configuration it cannot load itself; masking needs it loaded.
      await loadConfig(configPath, process.env).then(maskApplicationPasswords, () => undefined);
      await runSelfTestStep(configPath, inputs.text('job'), failOn);
      return;
    }
    await runSync(cancellation, inputs, configPath, failOn);
  } catch (error) {
    // Thrown before any job ran (an input, jobs.yaml, the job name); runJobs reports a
    // job's own failure in its summary instead.
    annotateStartFailure(error, process.env);
    setOutput('outcome', 'failed');
    await writeStartFailureSummary(error);
    if (failOn !== 'never') process.exitCode = ExitCode.failed;
  } finally {
    // 130 / 143 as the CLI's, whatever else happened: the run was asked to stop.
    if (cancellation.exitCode !== undefined) process.exitCode = cancellation.exitCode;
  }
}

async function runSync(
  cancellation: Cancellation,
  inputs: ActionInputs,
  configPath: string,
  failOn: FailOn,
): Promise<void> {
  // Refused before anything is read or written.
  const dryRun = inputs.flag('dry-run');
  const reset = inputs.flag('reset-state');
  refusePreviewThatResets(dryRun, reset);
  const maxRuntime = defaultMaxRuntime(inputs.text('max-runtime'), process.env);
  const job = inputs.text('job');
  const singleUser = inputs.text('user') || undefined;
  // Before any job starts, so a bad value stops the run while nothing is touched.
  const progressIntervalMs = readVariable(process.env, 'ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS');
  const config = await loadConfig(configPath, process.env);
  maskApplicationPasswords(config);
  const selected = selectJobs(config, job ? [job] : undefined);
  if (reset && !cancellation.signal.aborted) {
    for (const resolved of selected) await resetState(resolved, process.env);
    core.info(
      `Checkpoints cleared for ${selected.map((resolved) => resolved.name).join(', ')}; a new cycle starts.`,
    );
  }
  // Saved before any lock is taken: the post step releases what a killed run left.
  const runId = newRunId();
  if (!dryRun) saveRun({ runId, pid: process.pid, host: hostname(), locks: selected.map(lockPlaceOf) });
  const jobNames = selected.map((resolved) => resolved.name);
  const pages = new PageTracker();
  cancellation.onOverdue(() => reportForcedStop(cancellation.received ?? 'SIGINT', jobNames, pages, dryRun));
  if (maxRuntime !== undefined && selected.some((resolved) => resolved.limits.maxRuntime === undefined)) {
    core.info(
      `Jobs without limits.maxRuntime stop at the next page after ${formatSeconds(maxRuntime)} (input max-runtime); the next run continues.`,
    );
  }
  const log = jobLog(dryRun, progressIntervalMs);
  const outcome = await runJobs({
    runId,
    defaultMaxRuntimeSeconds: maxRuntime,
    signal: cancellation.signal,
    progress: {
      update(snapshot) {
        pages.update(snapshot);
        log.progress.update(snapshot);
      },
      stop: () => log.progress.stop(),
    },
    jobEvents: log,
    config,
    jobs: selected,
    singleUser,
    dryRun,
    approval: approvalFromInputs(inputs),
    outDir: inputs.text('out') || defaultOutDir(process.env, runId),
    env: process.env,
    logger: actionsLogger,
  }).finally(() => {
    // runJobs releases each lock it took before it returns (or throws).
    cancellation.settle();
    if (!dryRun) saveLocksReleased();
  });
  const verdict = outcomeOf(outcome.exitCode);
  const stepFails = failsStep(verdict, failOn);
  setRunOutputs(outcome.summaries, selected.length, verdict, outcome);
  annotateJobs(outcome.summaries, { stepFails }, process.env);
  if (stepFails && verdict === 'partial') annotatePartialFailure(outcome.summaries);
  const cancelled =
    cancellation.received && cancelledNotice(cancellation.received, jobNames, outcome.summaries, dryRun);
  await writeRunSummary(
    outcome.summaries,
    { resultsUrl: actionsRunUrl(process.env), approveVia: 'action' },
    outcome.summaryPath,
    cancelled || undefined,
  );
  core.info(`Reports: ${outcome.outputDir} (results.csv, results.jsonl, summary.md)`);
  if (stepFails) process.exitCode = ExitCode.failed;
  // Not a failure: the runner marks the step cancelled, and the next run continues.
  if (cancelled) core.warning(cancelled, { title: 'Run cancelled, checkpoint saved' });
}

/** Each job's application password variable, which only jobs.yaml names. */
function maskApplicationPasswords(config: LoadedConfig): void {
  for (const value of secretValues(process.env, config.jobs)) mask(value);
}

/** allow-deletes / allow-adoptions: 'true' approves the last held list, '40' pins its size, a run id the held run. */
function approvalFromInputs(inputs: ActionInputs): ApprovalRequest | undefined {
  const request = {
    deletes: parseApprovalPin(inputs.text('allow-deletes')),
    adoptions: parseApprovalPin(inputs.text('allow-adoptions')),
    by: readVariable(process.env, 'GITHUB_ACTOR') ?? 'unknown GitHub user',
  };
  return request.deletes || request.adoptions ? request : undefined;
}
