// The step summary: the run's summary.md (every job, held lists, reasons) reworded for
// workflow inputs; on a failure before any job ran, the error and its hint; for the
// self-test, one row per check. Local runs (@github/local-action, a shell) may have no
// step summary file, and then nothing is written.
import * as core from '@actions/core';
import type { CheckLine } from '../check/self-test.ts';
import { ConfigError, formatConfigIssue } from '../config/config-error.ts';
import { readVariable } from '../config/environment.ts';
import { ActionableError } from '../errors.ts';
import { escapeMarkdown, table } from '../report/markdown.ts';
import { type JobRunSummary, renderSummaryMarkdown, type SummaryLinks } from '../report/run-summary.ts';
import { inActionTerms } from './action-wording.ts';

/** Local runs (@github/local-action, a shell) may have no step summary file. */
export function stepSummaryAvailable(): boolean {
  return readVariable(process.env, 'GITHUB_STEP_SUMMARY') !== undefined;
}

/** GitHub refuses a step summary over 1 MiB. */
const stepSummaryLimit = 1024 * 1024 - 4096;

export async function writeRunSummary(
  summaries: readonly JobRunSummary[],
  links: SummaryLinks,
  fullSummaryPath: string,
  notice: string | undefined,
): Promise<void> {
  if (!stepSummaryAvailable()) return;
  const worded = summaries.map(inActionWords);
  const markdown = renderSummaryMarkdown(worded, links);
  // Over the limit: counts and progress only, and where the full summary is.
  const short = `${renderSummaryMarkdown(
    worded.map((summary) => ({ ...summary, errorGroups: [] })),
    links,
  )}\n\nThe full summary with every error is in ${fullSummaryPath}.`;
  const body = Buffer.byteLength(markdown) <= stepSummaryLimit ? markdown : short.slice(0, stepSummaryLimit);
  await core.summary.addRaw(notice ? `> ${notice}\n\n${body}` : body).write();
}

/** Stopped before any job ran: the error first, then the hint, and that nothing was touched. */
export async function writeStartFailureSummary(error: unknown): Promise<void> {
  if (!stepSummaryAvailable()) return;
  const problems =
    error instanceof ConfigError
      ? error.issues.map((issue) => `- ${escapeMarkdown(formatConfigIssue(issue))}`)
      : [`> **${escapeMarkdown(inActionTerms(error instanceof Error ? error.message : String(error)))}**`];
  const hint =
    error instanceof ActionableError && error.hint ? ['', escapeMarkdown(inActionTerms(error.hint))] : [];
  await core.summary
    .addRaw(
      [
        '## entra-wp-sync failed before any job ran',
        '',
        ...problems,
        ...hint,
        '',
        'Nothing was read from Entra or written to WordPress.',
        '',
      ].join('\n'),
    )
    .write();
}

export async function writeSelfTestSummary(lines: readonly CheckLine[], passed: boolean): Promise<void> {
  if (!stepSummaryAvailable()) return;
  const rows = lines.map((line) => [
    line.ok ? 'pass' : '**FAIL**',
    escapeMarkdown(line.check),
    escapeMarkdown(inActionTerms(line.detail)),
  ]);
  await core.summary
    .addRaw(
      [
        `## entra-wp-sync: self-test ${passed ? 'passed' : 'failed'}`,
        '',
        passed
          ? 'Every check passed; nothing was written to WordPress. Next: a run with dry-run: true.'
          : 'Nothing was written to WordPress. Fix the failed checks, then run the self-test again.',
        '',
        table(['', 'check', 'result'], rows),
        '',
      ].join('\n'),
    )
    .write();
}

/** The summary's texts as the Action says them: inputs instead of CLI flags. */
function inActionWords(summary: JobRunSummary): JobRunSummary {
  const reword = (text: string | undefined) => (text === undefined ? undefined : inActionTerms(text));
  return {
    ...summary,
    fatalError: reword(summary.fatalError),
    failure: summary.failure && {
      ...summary.failure,
      message: inActionTerms(summary.failure.message),
      hint: reword(summary.failure.hint),
    },
    stopReason: reword(summary.stopReason),
    approvalNotes: summary.approvalNotes?.map(inActionTerms),
    errorGroups: summary.errorGroups.map((group) => ({ ...group, reason: inActionTerms(group.reason) })),
    skippedBecause: reword(summary.skippedBecause),
  };
}
