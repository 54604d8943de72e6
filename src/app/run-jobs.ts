// Runs the selected jobs one after another and writes the run's reports. Shared by the
// CLI and the GitHub Action; neither knows how a job is wired to Graph and WordPress.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sendSummaryMail } from '../report/mail-sender.ts';
import { ResultsWriter } from '../report/results-writer.ts';
import { runTriggerOf } from '../report/run-record.ts';
import { type JobRunSummary, renderSummaryMarkdown } from '../report/run-summary.ts';
import { buildSummaryMail, shouldNotify } from '../report/summary-mail.ts';
import { graphApiFor } from './connections.ts';
import { exitCodeOf } from './job-summaries.ts';
import { runOneJob } from './run-job.ts';
import type { RunOptions, RunOutcome } from './run-options.ts';
import { type RunSettings, runSettingsFrom } from './run-settings.ts';

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function runJobs(options: RunOptions): Promise<RunOutcome> {
  const settings = runSettingsFrom(options.env);
  const runId = options.runId ?? newRunId();
  const outputDir = resolve(options.outDir ?? join('entra-wp-sync-out', runId));
  await mkdir(outputDir, { recursive: true });
  const results = new ResultsWriter(outputDir);
  const trigger = runTriggerOf({
    configured: settings.trigger,
    actions: settings.actions,
    terminal: options.terminal ?? false,
  });
  await results.open();
  const summaries: JobRunSummary[] = [];
  try {
    for (const job of options.jobs) {
      if (options.signal?.aborted) break;
      options.jobEvents?.started(job.name);
      const summary = await runOneJob(job, { runId, results, settings, options, trigger });
      summaries.push(summary);
      options.jobEvents?.finished(summary);
    }
  } finally {
    await results.close();
  }
  options.progress?.stop();
  await notifyByMail(summaries, options, settings, results.csvPath);
  const summaryPath = join(outputDir, 'summary.md');
  await writeFile(summaryPath, `${renderSummaryMarkdown(summaries, { approveVia: settings.approveVia })}\n`, {
    mode: 0o600,
  });
  return {
    runId,
    exitCode: exitCodeOf(summaries),
    summaries,
    outputDir,
    resultsPath: results.jsonlPath,
    summaryPath,
  };
}

const maxAttachmentBytes = 5 * 1024 * 1024;

/** Each job with notify.email gets its own message; a mail failure changes no exit code. */
async function notifyByMail(
  summaries: JobRunSummary[],
  options: RunOptions,
  settings: RunSettings,
  csvPath: string,
): Promise<void> {
  for (const summary of summaries) {
    const job = options.jobs.find((candidate) => candidate.name === summary.job);
    const email = job?.notify.email;
    if (!job || !email || !shouldNotify(email.on, summary)) continue;
    const mail = await buildSummaryMail(summary, csvPath, maxAttachmentBytes);
    const result = await sendSummaryMail(mail, email, {
      smtpUrl: settings.smtpUrl,
      graph: email.via === 'graph' ? graphApiFor(job, options.env) : undefined,
    });
    summary.mail = result.sent ? `sent to ${email.to.join(', ')}` : `not sent: ${result.reason}`;
    if (result.sent) options.logger.info(`${job.name}: summary mailed to ${email.to.join(', ')}`);
    else options.logger.error(`${job.name}: the summary email was not sent: ${result.reason}`);
  }
}
