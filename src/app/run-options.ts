// What the CLI and the Action ask of a run, and what they get back.
import type { LoadedConfig, ResolvedJob } from '../config/resolve.ts';
import type { Logger } from '../log/logger.ts';
import type { ProgressReporter } from '../log/progress.ts';
import type { JobRunSummary } from '../report/run-summary.ts';
import type { ApprovalRequest } from '../rules/approvals.ts';

export interface RunOptions {
  config: LoadedConfig;
  jobs: readonly ResolvedJob[];
  dryRun: boolean;
  /** What a person approved (--allow-deletes, --allow-adoptions): the last held list, maybe pinned. */
  approval?: ApprovalRequest | undefined;
  /** Reports go here; default ./entra-wp-sync-out/<run id>/. */
  outDir?: string | undefined;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  signal?: AbortSignal | undefined;
  progress?: ProgressReporter | undefined;
  /** sync-user: only this Entra user (object ID or UPN). */
  singleUser?: string | undefined;
  /** The run's id, when the caller must know it before a lock is taken (the Action's post step). */
  runId?: string | undefined;
  /** Seconds after which jobs without limits.maxRuntime stop at the next page (the Action's job timeout). */
  defaultMaxRuntimeSeconds?: number | undefined;
  /** Started by a person at a terminal (the CLI on a TTY), as the site's run history tells it. */
  terminal?: boolean | undefined;
  /** Told when each job starts and ends, e.g. to fold the job's log lines into a group. */
  jobEvents?: { started(job: string): void; finished(summary: JobRunSummary): void } | undefined;
}

export interface RunOutcome {
  runId: string;
  exitCode: number;
  summaries: JobRunSummary[];
  outputDir: string;
  resultsPath: string;
  summaryPath: string;
}
