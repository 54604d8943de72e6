// One job of a run, wired: its Graph and WordPress clients, the site's checks, the lock,
// the cycle, and a summary whatever happens (a failure is a summary too, not a throw).
import type { ResolvedJob } from '../config/resolve.ts';
import { runCycle } from '../engine/cycle.ts';
import { recordFailedRun } from '../engine/cycle-checkpoint.ts';
import { toCycleJob } from '../engine/cycle-job.ts';
import type { CycleJob } from '../engine/cycle-types.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import { GraphRequestError } from '../graph/graph-failures.ts';
import type { Logger } from '../log/logger.ts';
import type { ProgressSnapshot } from '../log/progress.ts';
import type { ResultsWriter } from '../report/results-writer.ts';
import { buildRunRecord, type RunTrigger } from '../report/run-record.ts';
import type { JobRunSummary } from '../report/run-summary.ts';
import { withSiteApproval } from '../rules/approvals.ts';
import { trimHeap } from '../runtime/heap.ts';
import { managingSinceOf } from '../state/checkpoint.ts';
import { JobAlreadyRunningError } from '../state/errors.ts';
import { lockOwnerOf } from '../state/lock-owner.ts';
import type { StateStore } from '../state/state-store.ts';
import { BatchingUserWrites, batchLimit } from '../wordpress/batch-writes.ts';
import type { CompanionInfo } from '../wordpress/companion.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import { postRunRecord, siteKeepsRunHistory } from '../wordpress/run-history.ts';
import { RestUserWrites, type UserWrites } from '../wordpress/user-writes.ts';
import { graphApiFor, stateStoreFor, wordpressClientFor } from './connections.ts';
import { loadJobGroups } from './job-groups.ts';
import {
  loginRuleOf,
  objectIdKeysFeature,
  openJobSite,
  privilegedRolesOf,
  readObjectIdKeys,
  resolveReassignTarget,
  siteUsersFor,
} from './job-site.ts';
import { failedSummary, skippedSummary } from './job-summaries.ts';
import type { RunOptions } from './run-options.ts';
import type { RunSettings } from './run-settings.ts';
import { resolveUserId, singleUserJob, withoutCheckpoint } from './single-user.ts';
import { settleSiteApproval, siteApprovalFor } from './site-approval.ts';

export interface JobRun {
  runId: string;
  results: ResultsWriter;
  settings: RunSettings;
  options: RunOptions;
  /** What started the run, for the site's run history. */
  trigger: RunTrigger;
}

/** The job's site as far as the run got: the client once built, the plugin once read. */
interface SiteReached {
  client?: WordPressClient | undefined;
  /** Set once the plugin's info was read; undefined inside means the site has no plugin. */
  companion?: { info: CompanionInfo | undefined } | undefined;
}

export async function runOneJob(job: ResolvedJob, jobRun: JobRun): Promise<JobRunSummary> {
  const reached: SiteReached = {};
  try {
    const summary = await syncJob(job, jobRun, reached);
    await recordRunInSite(summary, reached, jobRun);
    return summary;
  } finally {
    await reached.client?.close();
  }
}

/**
 * Posts the run's record to the site's run history, where the site's plugin keeps one. A
 * preview writes nothing to WordPress, its record neither; a run whose site was never read
 * (WordPress unreachable, the password refused) has nowhere to post; a record the site
 * refuses is a warning, never the run's failure.
 */
async function recordRunInSite(summary: JobRunSummary, reached: SiteReached, jobRun: JobRun): Promise<void> {
  const { client, companion } = reached;
  if (jobRun.options.dryRun || !client || !companion || !siteKeepsRunHistory(companion.info)) return;
  const record = buildRunRecord(summary, { trigger: jobRun.trigger, url: jobRun.settings.actions?.runUrl });
  if (!record) return;
  try {
    await postRunRecord(client, record);
  } catch (error) {
    jobRun.options.logger.warn(
      `${summary.job}: the run was not recorded in the site's run history (Users → Entra ID sync): ${describeError(error)}`,
      { job: summary.job, event: 'run-history-failed' },
    );
  }
}

async function syncJob(job: ResolvedJob, jobRun: JobRun, reached: SiteReached): Promise<JobRunSummary> {
  const { runId, results, settings, options } = jobRun;
  const started = new Date();
  const start = { job, runId, dryRun: options.dryRun, started };
  const { logger } = options;
  let client: WordPressClient | undefined;
  // The last page this job finished, for a failure's summary: what happened before it.
  let lastPage: ProgressSnapshot | undefined;
  try {
    const graph = graphApiFor(job, options.env, logger);
    client = wordpressClientFor(job, options.env, {
      connections: Math.max(4, job.limits.concurrency * 2),
      logger,
    });
    reached.client = client;
    // Rule groups' member listings (often thousands of members, a Graph page each 999) are
    // read while the site is checked; a failure comes out, as before, after the site's.
    const groupsRead = loadJobGroups(graph, job);
    groupsRead.catch(() => undefined);
    const site = await openJobSite(job, client, {
      dryRun: options.dryRun,
      logger,
      onCompanion: (info) => {
        reached.companion = { info };
      },
    });
    const groups = await groupsRead;
    const siteClient = client;
    const store = stateStoreFor(job, () => siteClient, { leaseRenewMs: settings.leaseRenewMs });
    logger.debug(`${job.name}: state backend ${job.state.backend}: ${store.description}`);
    const lock = options.dryRun
      ? undefined
      : await store.lock(job.name, lockOwnerOf(runId, started, options.env));
    // A lease another run took over stops the cycle at the next page, as a signal does.
    const signal =
      lock && options.signal ? AbortSignal.any([options.signal, lock.lost]) : (lock?.lost ?? options.signal);
    try {
      const users = siteUsersFor(client, site.companion, job.name, readObjectIdKeys(job));
      const fullJob = toCycleJob(job, {
        selfId: site.account.id,
        reassignTo: await resolveReassignTarget(job, client, users),
        privilegedRoles: privilegedRolesOf(site.companion),
        siteKeepsMarkers: site.companion !== undefined,
        siteTakesObjectIdKeys: site.companion?.features.includes(objectIdKeysFeature) ?? false,
        sourceGroupIds: groups.sourceGroupIds,
        roleRules: groups.roleRules,
      });
      fullJob.maxRuntimeSeconds ??= options.defaultMaxRuntimeSeconds;
      fullJob.fullIndexLimit = settings.fullIndexLimit;
      fullJob.plan.loginRule = loginRuleOf(site.companion);
      // The index lists this site's members only; lookups also find network users who are
      // not members yet, so a network site is always matched by lookup.
      if (site.companion?.network) fullJob.fullIndexLimit = 0;
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
      const writes = await userWritesFor(cycleJob, client, site.companion, settings, logger);
      const siteApproval = await siteApprovalFor(job.name, client, site.companion, {
        singleUser: options.singleUser,
        logger,
      });
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
          approval: withSiteApproval(options.approval, siteApproval),
        });
        if (options.singleUser) summary.singleUser = options.singleUser;
        if (siteApproval && !options.dryRun) {
          await settleSiteApproval(job.name, siteApproval, siteClient, cycleStore, logger);
        }
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
      return skippedSummary(start, caught.skippedBecause);
    }
    const error = locateRefusedQuery(job, caught);
    logger.error(`${job.name}: ${describeError(error)}`, { job: job.name, event: 'failed' });
    return {
      ...failedSummary(start, error),
      counts: results.countsOf(job.name),
      pagesDone: lastPage?.page ?? 0,
      usersSoFar: lastPage?.read ?? 0,
      totalCount: lastPage?.total,
    };
  }
}

/**
 * Batches where the companion plugin opts the users routes in (core does from 6.6), one
 * request per user otherwise. With batches, each of the job's connections carries one.
 */
async function userWritesFor(
  cycleJob: CycleJob,
  client: WordPressClient,
  companion: CompanionInfo | undefined,
  settings: RunSettings,
  logger: Logger,
): Promise<UserWrites> {
  const batchSize =
    companion?.features.includes('batch-users') && settings.batches
      ? await batchSizeOrNone(client, cycleJob.name, logger)
      : 0;
  const network = Boolean(companion?.network);
  if (batchSize <= 1) return new RestUserWrites(client, { network });
  cycleJob.writeConcurrency = batchSize * cycleJob.concurrency;
  return new BatchingUserWrites(client, batchSize, {
    network,
    singleConcurrency: cycleJob.concurrency,
    onBatchRefused: (error) =>
      logger.warn(
        `${cycleJob.name}: WordPress refused a /batch/v1 request (${error.message}); writing one user per request from now on. If a security plugin or firewall blocks /batch/v1, allow it for the sync's account, or set ENTRA_WP_SYNC_BATCH=off.`,
        { job: cycleJob.name, event: 'batch-unavailable' },
      ),
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

/** sync-user judges adoptions by the job's cycle; without one, nothing is adopted unproven. */
async function managingSinceFrom(store: StateStore, job: string): Promise<Date | undefined> {
  const saved = await store.load(job).catch(() => undefined);
  return saved ? new Date(managingSinceOf(saved)) : undefined;
}
