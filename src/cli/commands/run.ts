// `entra-wp-sync run`: sync every job, or one with --job; --dry-run plans only.

import { runJobs } from '../../app/run-jobs.ts';
import { loadConfig, selectJobs } from '../../config/load.ts';
import type { Logger } from '../../log/logger.ts';
import type { ProgressReporter } from '../../log/progress.ts';
import type { ApprovalRequest } from '../../rules/approvals.ts';

export interface RunCommandOptions {
  configPath: string;
  job: string | undefined;
  dryRun: boolean;
  /** What a person approved: the last held list of removals and/or adoptions. */
  approval?: ApprovalRequest | undefined;
  progress: ProgressReporter;
  /** sync-user: only this Entra user. */
  singleUser?: string | undefined;
  outDir: string | undefined;
  /** Started on a terminal: the site's run history says a person ran it. */
  terminal?: boolean | undefined;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  signal: AbortSignal;
  stdout: (text: string) => void;
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  const config = await loadConfig(options.configPath, options.env);
  const jobs = selectJobs(config, options.job ? [options.job] : undefined);
  const outcome = await runJobs({
    config,
    jobs,
    dryRun: options.dryRun,
    approval: options.approval,
    progress: options.progress,
    singleUser: options.singleUser,
    outDir: options.outDir,
    terminal: options.terminal,
    env: options.env,
    logger: options.logger,
    signal: options.signal,
  });
  for (const summary of outcome.summaries) {
    const counts = Object.entries(summary.counts)
      .map(([action, count]) => `${count} ${action}`)
      .join(', ');
    if (summary.skippedBecause) {
      options.stdout(`${summary.job}: skipped, ${summary.skippedBecause}\n`);
      continue;
    }
    const state = summary.fatalError
      ? `failed: ${summary.fatalError}`
      : summary.cycleComplete
        ? 'cycle complete'
        : 'cycle continues next run';
    options.stdout(
      `${summary.job}${summary.dryRun ? ' (preview)' : ''}: ${counts || 'nothing to do'}; ${state}\n`,
    );
    // An approval that approved nothing must not look like one that was applied.
    for (const note of summary.approvalNotes ?? []) options.stdout(`${summary.job}: ${note}\n`);
    const held = summary.removals?.held ? summary.removals.wanted : 0;
    if (held > 0) {
      options.stdout(
        `${summary.job}: ${held} removals held; check the list in summary.md, then approve exactly it with --allow-deletes ${held}\n`,
      );
    }
    const adoptions = summary.heldAdoptions?.length ?? 0;
    if (adoptions > 0) {
      options.stdout(
        `${summary.job}: ${adoptions} adoptions held; check them in summary.md, then approve exactly them with --allow-adoptions ${adoptions}\n`,
      );
    }
  }
  options.stdout(`Reports: ${outcome.outputDir}\n`);
  return outcome.exitCode;
}
