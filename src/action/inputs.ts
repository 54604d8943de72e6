// Inputs checked before anything is read or written: each read by its name in
// action-metadata.ts (its default when the runner passes nothing), combinations that
// cannot mean what they say, durations, the command, when the step fails, where the
// reports go.
import { join } from 'node:path';
import type { Env } from '../config/env.ts';
import { readVariable } from '../config/environment.ts';
import { parseDuration } from '../config/guards.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import { type ActionInputName, actionInputs } from './action-metadata.ts';

/** One input as the runner passes it: @actions/core's getInput (INPUT_<NAME>, trimmed). */
export type RawInput = (name: string) => string;

export type BooleanInputName = {
  [Name in ActionInputName]: (typeof actionInputs)[Name]['type'] extends 'boolean' ? Name : never;
}[ActionInputName];

export interface ActionInputs {
  /** The input's value, or its default in action-metadata.ts when it is empty. */
  text(name: ActionInputName): string;
  flag(name: BooleanInputName): boolean;
}

/**
 * The runner fills in action.yml's defaults; local runs (@github/local-action) may not, so
 * an empty input means the table's default either way.
 */
export function actionInputsFrom(raw: RawInput): ActionInputs {
  const text = (name: ActionInputName) => raw(name) || actionInputs[name].default;
  return {
    text,
    flag(name) {
      const value = text(name);
      // The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput accepts them.
      if (['true', 'True', 'TRUE'].includes(value)) return true;
      if (['false', 'False', 'FALSE'].includes(value)) return false;
      throw new ActionableError(`The input ${name} must be true or false (got "${value}").`, {
        exitCode: ExitCode.usage,
        hint: `Write ${name}: true or ${name}: false, or leave it out for ${actionInputs[name].default}.`,
      });
    },
  };
}

/**
 * Inside GitHub Actions a run that outlives timeout-minutes is cancelled; stopping at the
 * next page after 50 minutes keeps an hourly schedule from overlapping and leaves any
 * timeout-minutes of 60 or more room for the last page, the checkpoint and the summary.
 */
export const actionsMaxRuntimeSeconds = 50 * 60;

/** A preview writes nothing, state included: reset-state would lose a cycle in progress. */
export function refusePreviewThatResets(dryRun: boolean, resetState: boolean): void {
  if (!dryRun || !resetState) return;
  throw new ActionableError(
    'The inputs dry-run: true and reset-state: true cannot be used together: a preview writes nothing, but reset-state would clear the saved checkpoint and lose the cycle in progress.',
    {
      exitCode: ExitCode.usage,
      hint: 'Remove reset-state to preview the next run (a preview never changes the checkpoint), or set dry-run: false to really clear the checkpoint and start a new cycle.',
    },
  );
}

/**
 * Seconds after which jobs without limits.maxRuntime stop at the next page: the
 * max-runtime input, else 50 minutes inside GitHub Actions, else no limit.
 */
export function defaultMaxRuntime(input: string, env: Env): number | undefined {
  if (input.trim() === '') return readVariable(env, 'GITHUB_ACTIONS') ? actionsMaxRuntimeSeconds : undefined;
  const seconds = parseDuration(input);
  if (seconds === undefined) {
    throw new ActionableError(
      `The input max-runtime must be a duration like 90s, 30m or 2h (got "${input}").`,
      {
        exitCode: ExitCode.usage,
        hint: "Set it below the job's timeout-minutes, e.g. 50m for timeout-minutes: 60; leave it empty for the default (50m).",
      },
    );
  }
  return seconds;
}

/** "50 min", "90 s": how the log names a limit. */
export function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** What the step does: a sync, or the self-test (no writes, works over OIDC like a run). */
export type ActionCommand = 'run' | 'check';

export function commandFrom(input: string): ActionCommand {
  const value = input.trim();
  if (value === 'run' || value === 'check') return value;
  throw new ActionableError(`The input command must be run or check (got "${input}").`, {
    exitCode: ExitCode.usage,
    hint: 'Use command: check for the self-test (nothing is written), or leave it empty to sync.',
  });
}

/**
 * When the step fails: `partial` on a fatal error, held removals or adoptions, or any user
 * that could not be synced; `error` not for users that failed (they stay warnings, so a
 * few permanent data problems do not turn every scheduled run red); `never` not at all
 * (a later step reads the outcome output).
 */
export type FailOn = 'error' | 'partial' | 'never';

export function failOnFrom(input: string): FailOn {
  const value = input.trim();
  if (value === 'error' || value === 'partial' || value === 'never') return value;
  throw new ActionableError(`The input fail-on must be error, partial or never (got "${input}").`, {
    exitCode: ExitCode.usage,
    hint: 'partial (the default) fails the step when any user could not be synced; error only on a failed job or held removals or adoptions; never leaves the verdict to the outcome output.',
  });
}

/**
 * entra-wp-sync-out/<GITHUB_RUN_ID>-<GITHUB_RUN_ATTEMPT>: a path the workflow can name
 * for its artifact upload before the step runs, and a re-run's results apart from the
 * first attempt's. Outside Actions, the run's own id.
 */
export function defaultOutDir(env: Env, runId: string): string {
  const actionsRunId = readVariable(env, 'GITHUB_RUN_ID');
  const name = actionsRunId ? `${actionsRunId}-${readVariable(env, 'GITHUB_RUN_ATTEMPT') ?? '1'}` : runId;
  return join('entra-wp-sync-out', name);
}
