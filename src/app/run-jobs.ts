// Runs the selected jobs one after another and writes the run's reports. Shared by the
// CLI and the GitHub Action; neither knows how a job is wired to Graph and WordPress.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { LoadedConfig, ResolvedJob } from '../config/resolve.ts';
import { recordFailedRun, runCycle, type SiteUsers } from '../engine/cycle.ts';
import { toCycleJob } from '../engine/cycle-job.ts';
import { describeFailure } from '../engine/describe-failure.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import { GraphApi, GraphRequestError } from '../graph/graph-api.ts';
import { jobCredential } from '../graph/job-credential.ts';
import type { Logger } from '../log/logger.ts';
import type { ProgressReporter, ProgressSnapshot } from '../log/progress.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import { sendSummaryMail } from '../report/mail-sender.ts';
import { ResultsWriter } from '../report/results-writer.ts';
import { type JobRunSummary, renderSummaryMarkdown } from '../report/run-summary.ts';
import { buildSummaryMail, shouldNotify } from '../report/summary-mail.ts';
import type { ApprovalRequest } from '../rules/approvals.ts';
import { loginKey } from '../rules/wordpress-normalise.ts';
import { keepYoungGenerationSmall, trimHeap } from '../runtime/heap.ts';
import { managingSinceOf } from '../state/checkpoint.ts';
import { JobAlreadyRunningError } from '../state/errors.ts';
import { FileStateStore } from '../state/file-store.ts';
import { actionsRunAttemptUrl } from '../state/lock-owner.ts';
import type { StateStore } from '../state/state-store.ts';
import { leaseRenewMsFrom, WordPressStateStore } from '../state/wordpress-store.ts';
import { BatchingUserWrites, batchLimit } from '../wordpress/batch-writes.ts';
import { type CompanionInfo, checkMappedRoles, fetchCompanionInfo } from '../wordpress/companion.ts';
import { WordPressClient } from '../wordpress/rest-client.ts';
import { assertCanManageUsers, fetchSiteAccount } from '../wordpress/site-account.ts';
import { countUsers, fetchUser, loadAllUsers, scanUsers } from '../wordpress/user-index.ts';
import { lookupUsers } from '../wordpress/user-lookup.ts';
import { RestUserWrites } from '../wordpress/user-writes.ts';
import { loadJobGroups } from './job-groups.ts';
import { resolveUserId, singleUserJob, withoutCheckpoint } from './single-user.ts';

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

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function applicationPasswordOf(job: ResolvedJob, env: NodeJS.ProcessEnv): string {
  return applicationPassword(job, env);
}

export async function runJobs(options: RunOptions): Promise<RunOutcome> {
  keepYoungGenerationSmall();
  const runId = options.runId ?? newRunId();
  const outputDir = resolve(options.outDir ?? join('entra-wp-sync-out', runId));
  await mkdir(outputDir, { recursive: true });
  const results = new ResultsWriter(outputDir);
  await results.open();
  const summaries: JobRunSummary[] = [];
  try {
    for (const job of options.jobs) {
      if (options.signal?.aborted) break;
      options.jobEvents?.started(job.name);
      const summary = await runOneJob(job, runId, results, options);
      summaries.push(summary);
      options.jobEvents?.finished(summary);
    }
  } finally {
    await results.close();
  }
  options.progress?.stop();
  await notifyByMail(summaries, options, results.csvPath);
  const summaryPath = join(outputDir, 'summary.md');
  const approveVia = options.env.GITHUB_ACTIONS === 'true' ? 'action' : 'cli';
  await writeFile(summaryPath, `${renderSummaryMarkdown(summaries, { approveVia })}\n`, { mode: 0o600 });
  return {
    runId,
    exitCode: exitCodeOf(summaries),
    summaries,
    outputDir,
    resultsPath: results.jsonlPath,
    summaryPath,
  };
}

async function runOneJob(
  job: ResolvedJob,
  runId: string,
  results: ResultsWriter,
  options: RunOptions,
): Promise<JobRunSummary> {
  const started = new Date();
  const { logger } = options;
  let client: WordPressClient | undefined;
  // The last page this job finished, for a failure's summary: what happened before it.
  let lastPage: ProgressSnapshot | undefined;
  try {
    const graph = graphApiFor(job, options.env, logger);
    client = new WordPressClient(
      {
        url: job.wordpress.url,
        username: job.wordpress.username,
        applicationPassword: applicationPassword(job, options.env),
      },
      { connections: Math.max(4, job.limits.concurrency * 2), logger },
    );
    const account = await fetchSiteAccount(client);
    if (!options.dryRun) assertCanManageUsers(account, client.siteUrl);
    const companion = await fetchCompanionInfo(client);
    if (companion) {
      checkMappedRoles(job, companion);
      const refused = Object.keys(job.map.meta).filter((key) => !companion.allowedMetaKeys.includes(key));
      if (refused.length > 0) {
        logger.warn(
          `${job.name}: the site does not accept the meta keys ${refused.join(', ')}; add them to the entra_wp_sync_allowed_meta_keys option (or filter) on the site, or remove them from map.meta`,
        );
      }
    } else {
      assertWorksWithoutPlugin(job, client.siteUrl);
      logger.warn(
        `${job.name}: the companion plugin is not installed on ${client.siteUrl}; disabled users cannot be kept from signing in, roles are not checked, and existing accounts are linked by email or username without proof (adoption.withoutCompanionPlugin: link)`,
      );
    }
    const groups = await loadJobGroups(graph, job);
    const store = stateStoreFor(job, client, companion, options.env);
    logger.debug(`${job.name}: state backend ${job.state.backend}: ${store.description}`);
    const lock = options.dryRun
      ? undefined
      : await store.lock(job.name, {
          runId,
          pid: process.pid,
          host: hostname(),
          startedAt: started.toISOString(),
          runUrl: actionsRunAttemptUrl(options.env),
        });
    // A lease another run took over stops the cycle at the next page, as a signal does.
    const signal =
      lock && options.signal ? AbortSignal.any([options.signal, lock.lost]) : (lock?.lost ?? options.signal);
    try {
      const users = siteUsersFor(client, companion, job.name, job.adoption.objectIdKeys);
      const fullJob = toCycleJob(job, {
        selfId: account.id,
        reassignTo: await resolveReassignTarget(job, client, users),
        privilegedRoles: privilegedRolesOf(companion),
        siteKeepsMarkers: companion !== undefined,
        sourceGroupIds: groups.sourceGroupIds,
        roleRules: groups.roleRules,
      });
      fullJob.maxRuntimeSeconds ??= options.defaultMaxRuntimeSeconds;
      const cycleJob = options.singleUser
        ? await singleUserJob(
            fullJob,
            job,
            graph,
            await resolveUserId(graph, options.singleUser),
            groups.sourceGroupIds,
          )
        : fullJob;
      const cycleStore = options.singleUser ? withoutCheckpoint(store) : store;
      // Batches where the companion plugin opts the users routes in (core does from 6.6).
      const batchSize =
        companion?.features.includes('batch-users') && options.env.ENTRA_WP_SYNC_BATCH !== 'off'
          ? await batchSizeOrNone(client, job.name, logger)
          : 0;
      const writes = batchSize > 1 ? new BatchingUserWrites(client, batchSize) : new RestUserWrites(client);
      if (batchSize > 1) cycleJob.writeConcurrency = batchSize * job.limits.concurrency;
      const indexLimit = options.env.ENTRA_WP_SYNC_FULL_INDEX_LIMIT;
      if (indexLimit && /^\d+$/.test(indexLimit)) cycleJob.fullIndexLimit = Number(indexLimit);
      try {
        const summary = await runCycle(cycleJob, {
          runId,
          dryRun: options.dryRun,
          graph,
          writes,
          users,
          store: cycleStore,
          results,
          logger,
          signal,
          progress: {
            update(snapshot) {
              lastPage = snapshot;
              options.progress?.update(snapshot);
            },
            stop() {},
          },
          wordpress: client,
          afterPage: trimHeap,
          managingSince: options.singleUser
            ? ((await managingSinceFrom(store, job.name)) ?? null)
            : undefined,
          approval: options.approval,
        });
        if (options.singleUser) summary.singleUser = options.singleUser;
        return summary;
      } catch (error) {
        if (!options.dryRun) await recordFailedRun(cycleStore, job.name, runId, started, {});
        throw error;
      }
    } finally {
      await lock?.release();
    }
  } catch (caught) {
    // Another live run is doing this job's work: not a failure of this run.
    if (caught instanceof JobAlreadyRunningError) {
      logger.warn(`${job.name}: ${describeError(caught)}`, { job: job.name, event: 'skipped' });
      return skippedSummary(job, runId, options.dryRun, started, caught.skippedBecause);
    }
    const error = locateRefusedQuery(job, caught);
    logger.error(`${job.name}: ${describeError(error)}`, { job: job.name, event: 'failed' });
    return {
      ...failedSummary(job, runId, options.dryRun, started, error),
      counts: results.countsOf(job.name),
      pagesDone: lastPage?.page ?? 0,
      usersSoFar: lastPage?.read ?? 0,
      totalCount: lastPage?.total,
    };
  } finally {
    await client?.close();
  }
}

/** A query Graph refuses is the job's filter or search: the message says where it is written. */
function locateRefusedQuery(job: ResolvedJob, error: unknown): unknown {
  if (!(error instanceof GraphRequestError) || error.exitCode !== ExitCode.usage) return error;
  const where = job.writtenAt?.['source.users.filter'] ?? job.writtenAt?.['source.users.search'];
  if (!where) return error;
  return new ActionableError(`${where}: ${error.message}`, {
    ...(error.hint ? { hint: error.hint } : {}),
    exitCode: error.exitCode,
    cause: error,
  });
}

/**
 * The site's batch size; 0 (one request per user) when /batch/v1 cannot be asked, for
 * example because a security plugin blocks it: slower, but every user is still written.
 */
async function batchSizeOrNone(client: WordPressClient, jobName: string, logger: Logger): Promise<number> {
  try {
    return await batchLimit(client);
  } catch (error) {
    logger.warn(
      `${jobName}: WordPress did not describe /batch/v1 (${error instanceof Error ? error.message : String(error)}); writing one user per request. If a security plugin blocks /batch/v1, allow it for the sync's account, or set ENTRA_WP_SYNC_BATCH=off to skip this check.`,
      { job: jobName, event: 'batch-unavailable' },
    );
    return 0;
  }
}

export function graphApiFor(job: ResolvedJob, env: NodeJS.ProcessEnv, logger?: Logger): GraphApi {
  const { credential, endpoints } = jobCredential(job, env, logger);
  return new GraphApi(credential, endpoints, { logger });
}

const maxAttachmentBytes = 5 * 1024 * 1024;

/** Each job with notify.email gets its own message; a mail failure changes no exit code. */
async function notifyByMail(summaries: JobRunSummary[], options: RunOptions, csvPath: string): Promise<void> {
  for (const summary of summaries) {
    const job = options.jobs.find((candidate) => candidate.name === summary.job);
    const email = job?.notify.email;
    if (!job || !email || !shouldNotify(email.on, summary)) continue;
    const mail = await buildSummaryMail(summary, csvPath, maxAttachmentBytes);
    const result = await sendSummaryMail(mail, email, {
      smtpUrl: options.env.SMTP_URL,
      graph: email.via === 'graph' ? graphApiFor(job, options.env) : undefined,
    });
    summary.mail = result.sent ? `sent to ${email.to.join(', ')}` : `not sent: ${result.reason}`;
    if (result.sent) options.logger.info(`${job.name}: summary mailed to ${email.to.join(', ')}`);
    else options.logger.error(`${job.name}: the summary email was not sent: ${result.reason}`);
  }
}

/** Where a run finds the site's users: the whole index once, or by key through the plugin. */
/**
 * Without the companion plugin WordPress drops the sync's marker meta: nothing is ever
 * "managed", so removals would never find anyone, and whose an existing account is cannot
 * be shown. Both are refused before anything is written, unless the job accepts linking
 * without proof.
 */
function assertWorksWithoutPlugin(job: ResolvedJob, siteUrl: string): void {
  const install = 'Copy wordpress-plugin/entra-wp-sync.php into wp-content/mu-plugins/ on the site.';
  if (job.actions.delete !== 'none') {
    throw new ActionableError(
      `Job "${job.name}": actions.delete is ${job.actions.delete}, but ${siteUrl} has no companion plugin: WordPress drops the marker that says which users the job manages, so no one would ever be removed.`,
      { exitCode: ExitCode.usage, hint: `${install} Or set actions.delete: none.` },
    );
  }
  if (job.adoption.withoutCompanionPlugin !== 'link') {
    throw new ActionableError(
      `Job "${job.name}": ${siteUrl} has no companion plugin, so the sync can neither mark the accounts it manages nor tell whose an existing account is; linking by email or username would let a member who changes their email take over a joiner's account.`,
      {
        exitCode: ExitCode.usage,
        hint: `${install} Or, accepting that risk, set adoption.withoutCompanionPlugin: link.`,
      },
    );
  }
}

/** Roles no mapping may grant without roles.allowPrivileged; administrator even where the site cannot say. */
function privilegedRolesOf(companion: CompanionInfo | undefined): Set<string> {
  const roles = new Set(['administrator']);
  for (const role of companion?.roles ?? []) if (role.privileged) roles.add(role.slug);
  return roles;
}

/** sync-user judges adoptions by the job's cycle; without one, nothing is adopted unproven. */
async function managingSinceFrom(store: StateStore, job: string): Promise<Date | undefined> {
  const saved = await store.load(job).catch(() => undefined);
  return saved ? new Date(managingSinceOf(saved)) : undefined;
}

function siteUsersFor(
  client: WordPressClient,
  companion: CompanionInfo | undefined,
  job: string,
  objectIdKeys: readonly string[],
): SiteUsers {
  let everyone: Promise<WordPressUser[]> | undefined;
  const features = companion?.features ?? [];
  const listing = { compact: features.includes('user-index'), objectIdKeys };
  return {
    all: () => {
      everyone ??= loadAllUsers(client, listing);
      return everyone;
    },
    count: () => countUsers(client, listing),
    scan: (visit) => scanUsers(client, listing, visit),
    find: features.includes('user-lookup')
      ? (keys) => lookupUsers(client, keys, job, objectIdKeys)
      : undefined,
  };
}

/** Checked before anything is written, so a typo cannot strand deleted users' posts. */
async function resolveReassignTarget(
  job: ResolvedJob,
  client: WordPressClient,
  users: SiteUsers,
): Promise<number | undefined> {
  if (job.actions.delete !== 'hard') return undefined;
  const target = String(job.actions.reassignPostsTo);
  const user = /^\d+$/.test(target)
    ? await fetchUser(client, Number(target))
    : (users.find ? (await users.find({ logins: [target] })).users : await users.all()).find(
        (candidate) => loginKey(candidate.username) === loginKey(target),
      );
  if (!user) {
    throw new ActionableError(
      `Job "${job.name}": actions.reassignPostsTo "${target}" is not a user on ${job.wordpress.url}.`,
      {
        exitCode: ExitCode.usage,
        hint: "Name the login or user ID of an existing account that should receive deleted users' posts.",
      },
    );
  }
  return user.id;
}

function applicationPassword(job: ResolvedJob, env: NodeJS.ProcessEnv): string {
  const value = env[job.wordpress.applicationPasswordEnv];
  if (!value) {
    throw new ActionableError(`Job "${job.name}": ${job.wordpress.applicationPasswordEnv} is not set.`, {
      exitCode: ExitCode.usage,
      hint: `Put the WordPress application password of "${job.wordpress.username}" in the ${job.wordpress.applicationPasswordEnv} environment variable (a secret in GitHub Actions).`,
    });
  }
  return value;
}

function stateStoreFor(
  job: ResolvedJob,
  client: WordPressClient,
  companion: CompanionInfo | undefined,
  env: NodeJS.ProcessEnv,
): StateStore {
  if (job.state.backend === 'file') return new FileStateStore(job.state.directory);
  if (!companion?.features.includes('state')) {
    throw new ActionableError(
      `Job "${job.name}": state.backend "wordpress" needs the companion plugin on ${client.siteUrl}.`,
      {
        exitCode: ExitCode.usage,
        hint: 'Copy wordpress-plugin/entra-wp-sync.php into wp-content/mu-plugins/, or use state.backend: file.',
      },
    );
  }
  return new WordPressStateStore(client, { renewEveryMs: leaseRenewMsFrom(env) });
}

/** A job another live run holds: that run does its work, this one did nothing and failed nothing. */
function skippedSummary(
  job: ResolvedJob,
  runId: string,
  dryRun: boolean,
  started: Date,
  because: string,
): JobRunSummary {
  return {
    ...failedSummary(job, runId, dryRun, started, undefined),
    fatalError: undefined,
    exitCode: undefined,
    skippedBecause: because,
  };
}

function failedSummary(
  job: ResolvedJob,
  runId: string,
  dryRun: boolean,
  started: Date,
  error: unknown,
): JobRunSummary {
  return {
    job: job.name,
    runId,
    dryRun,
    startedAt: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    counts: {},
    errorGroups: [],
    pagesDone: 0,
    usersSoFar: 0,
    totalCount: undefined,
    cycleComplete: false,
    stopReason: undefined,
    fatalError: describeError(error),
    failure: error === undefined ? undefined : describeFailure(error),
    deleteMode: job.actions.delete,
    exitCode: error instanceof ActionableError ? error.exitCode : ExitCode.failed,
  };
}

function exitCodeOf(all: readonly JobRunSummary[]): number {
  // A job skipped because another run holds it is that run's to report.
  const summaries = all.filter((summary) => summary.skippedBecause === undefined);
  const fatal = summaries.find((summary) => summary.fatalError !== undefined);
  if (fatal) return fatal.exitCode ?? ExitCode.failed;
  if (summaries.some((summary) => summary.removals?.held || (summary.heldAdoptions?.length ?? 0) > 0))
    return ExitCode.deletesHeld;
  if (summaries.some((summary) => (summary.counts.failed ?? 0) > 0)) return ExitCode.partial;
  return ExitCode.ok;
}
