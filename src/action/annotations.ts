// One annotation per problem, with a title that says which job and what, so the run page
// reads like a list of things to do. A configuration problem is placed on its line of
// jobs.yaml, where GitHub shows it on the file.
import { isAbsolute, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { ConfigError } from '../config/config-error.ts';
import type { Env } from '../config/env.ts';
import { readVariable } from '../config/environment.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import type { FailureSource, FilePlace, JobFailure } from '../report/job-failure.ts';
import type { JobRunSummary } from '../report/run-summary.ts';
import { inActionTerms } from './action-wording.ts';

/** GitHub shows 10 warnings per step; the rest of the reasons are in the step summary. */
export const reasonWarningsPerJob = 5;

const sourceLabels: Record<FailureSource, string> = {
  configuration: 'configuration',
  entra: 'Entra ID / Microsoft Graph',
  wordpress: 'WordPress',
  other: 'error',
};

/** file=, line=, col=: the file relative to the workspace, as GitHub matches it to the repository. */
export function annotationPlace(place: FilePlace | undefined, env: Env): core.AnnotationProperties {
  if (!place) return {};
  const workspace = readVariable(env, 'GITHUB_WORKSPACE') ?? process.cwd();
  const inWorkspace = relative(workspace, resolve(workspace, place.file));
  const file = inWorkspace.startsWith('..') || isAbsolute(inWorkspace) ? place.file : inWorkspace;
  return { file, startLine: place.line, startColumn: place.column };
}

function withHint(message: string, hint: string | undefined): string {
  return inActionTerms(hint ? `${message}\nhint: ${hint}` : message);
}

/** An error that stopped the step before any job ran: an input, jobs.yaml, an unknown job. */
export function annotateStartFailure(error: unknown, env: Env): void {
  if (error instanceof ConfigError) {
    error.issues.forEach((issue, index) => {
      const where = `${issue.file}:${issue.line}:${issue.column}`;
      const message = issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
      core.error(withHint(message, index === 0 ? error.hint : undefined), {
        title: 'Configuration error, nothing was changed',
        ...annotationPlace({ file: issue.file, line: issue.line, column: issue.column }, env),
      });
    });
    return;
  }
  const usage = error instanceof ActionableError && error.exitCode === ExitCode.usage;
  core.error(inActionTerms(describeError(error)), {
    title: usage ? 'Invalid input or configuration, nothing was changed' : 'entra-wp-sync failed',
  });
}

export interface Verdict {
  /** The step fails: held lists are errors, not just warnings. */
  stepFails: boolean;
}

/** What each job's summary asks of a person: its fatal error, held lists, refused approvals, failed users. */
export function annotateJobs(summaries: readonly JobRunSummary[], verdict: Verdict, env: Env): void {
  for (const summary of summaries) {
    if (summary.skippedBecause) continue;
    if (summary.fatalError) annotateFailure(summary.job, summary.failure, summary.fatalError, env);
    for (const note of summary.approvalNotes ?? []) {
      core.warning(inActionTerms(note), { title: `${summary.job}: approval not applied` });
    }
    annotateHeldRemovals(summary, verdict);
    annotateHeldAdoptions(summary, verdict);
    annotateReasons(summary);
  }
}

function annotateFailure(job: string, failure: JobFailure | undefined, fatal: string, env: Env): void {
  const label = sourceLabels[failure?.source ?? 'other'];
  core.error(failure ? withHint(failure.message, failure.hint) : inActionTerms(fatal), {
    title: `${job} failed: ${label}`,
    ...annotationPlace(failure?.place, env),
  });
}

function annotateHeldRemovals(summary: JobRunSummary, verdict: Verdict): void {
  const removals = summary.removals;
  if (!removals?.held) return;
  const verb = summary.deleteMode === 'hard' ? 'deleted' : 'disabled';
  const why = removals.suspect
    ? `the cycle read far fewer users from Entra than the job manages (${removals.suspect})`
    : `more than safety.maxDeletes allows (${removals.limit} of ${removals.managed} managed users)`;
  const unapproved = removals.unapproved?.length
    ? ` ${removals.unapproved.length} of them were not on the approved list, so it is held again.`
    : '';
  const message = `${removals.wanted} users would be ${verb}, ${why}; nothing was removed.${unapproved} Check the list in the step summary; if it is right, run the workflow again with the input allow-deletes: '${removals.wanted}' (approves exactly these ${removals.wanted}).`;
  const annotate = verdict.stepFails ? core.error : core.warning;
  annotate(message, { title: `${summary.job}: ${removals.wanted} removals held for approval` });
}

function annotateHeldAdoptions(summary: JobRunSummary, verdict: Verdict): void {
  const held = summary.heldAdoptions ?? [];
  if (held.length === 0) return;
  const examples = held.slice(0, 2).join(', ');
  const message = `${held.length} existing WordPress accounts match an Entra user, but nothing shows they are that person's (e.g. ${examples}); they were not linked and nothing was changed. Check each in the step summary; to link them, run the workflow again with the input allow-adoptions: '${held.length}'.`;
  const annotate = verdict.stepFails ? core.error : core.warning;
  annotate(message, { title: `${summary.job}: ${held.length} adoptions held for approval` });
}

/** One warning per reason users could not be synced, with the count and two of them. */
function annotateReasons(summary: JobRunSummary): void {
  const groups = summary.errorGroups;
  for (const group of groups.slice(0, reasonWarningsPerJob)) {
    const examples = group.examples.slice(0, 2).join(', ');
    core.warning(inActionTerms(`${group.reason} (${plural(group.count, 'user')}, e.g. ${examples})`), {
      title: `${summary.job}: ${plural(group.count, 'user')} not synced`,
    });
  }
  const rest = groups.slice(reasonWarningsPerJob);
  if (rest.length > 0) {
    const users = rest.reduce((sum, group) => sum + group.count, 0);
    core.warning(
      `…and ${plural(rest.length, 'more reason')} (${plural(users, 'user')}); the step summary and results.csv list every one.`,
      { title: `${summary.job}: more users not synced` },
    );
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** fail-on: partial turned users that failed into a failed step: say so once, and how to change it. */
export function annotatePartialFailure(summaries: readonly JobRunSummary[]): void {
  const failed = summaries.reduce((sum, summary) => sum + (summary.counts.failed ?? 0), 0);
  core.error(
    `${failed} users could not be synced (the warnings above give the reasons); the step fails because the input fail-on is partial. With fail-on: error, a run where only some users fail stays green and they remain warnings.`,
    { title: 'Users not synced' },
  );
}
