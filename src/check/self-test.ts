// The self-test: config, Entra token, Graph permissions, the job query, WordPress, the
// application password, capabilities, the companion plugin, the state backend and mail.
// Each line passes or fails with what to do about it; nothing is written to WordPress.
// The CLI's `check` and the action's `command: check` print it their own way.
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { entraConnectionFor, stateStoreFor, wordpressClientFor } from '../app/connections.ts';
import { readVariable, requireApplicationPassword } from '../config/environment.ts';
import { loadConfig, selectJobs } from '../config/load.ts';
import { mapReadsManager } from '../config/mapping.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import { selectedAttributes } from '../engine/cycle-job.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import { graphScope } from '../graph/clouds.ts';
import { translateGraphFailure } from '../graph/graph-failures.ts';
import { needsEventualConsistency, usersRequestPath } from '../graph/users-query.ts';
import type { Logger } from '../log/logger.ts';
import { verifySmtpTransport } from '../report/mail-sender.ts';
import { CompanionSwitchedOffError, fetchCompanionInfo } from '../wordpress/companion.ts';
import { WordPressRequestError } from '../wordpress/errors.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import { assertUsersRoutes, fetchSiteAccount, missingCapabilities } from '../wordpress/site-account.ts';

export interface CheckLine {
  check: string;
  ok: boolean;
  detail: string;
  /** The job the line is about (none for the configuration file itself). */
  job?: string | undefined;
  /** What failed, when the line failed on an error (a configuration error knows its place). */
  error?: unknown;
}

export interface SelfTestOptions {
  configPath: string;
  job: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Gets what the checks do at debug level (credential kind, Graph request ids). */
  logger?: Logger | undefined;
}

export interface SelfTestResult {
  lines: CheckLine[];
  exitCode: number;
}

export async function selfTest(options: SelfTestOptions): Promise<SelfTestResult> {
  const lines: CheckLine[] = [];
  let jobs: ResolvedJob[];
  try {
    jobs = selectJobs(
      await loadConfig(options.configPath, options.env),
      options.job ? [options.job] : undefined,
    );
    lines.push({ check: 'config valid', ok: true, detail: `${options.configPath}: ${jobs.length} job(s)` });
  } catch (error) {
    lines.push({ check: 'config valid', ok: false, detail: describeError(error), error });
    return { lines, exitCode: error instanceof ActionableError ? error.exitCode : ExitCode.usage };
  }
  for (const job of jobs) lines.push(...(await checkJob(job, options.env, options.logger)));
  return { lines, exitCode: lines.every((line) => line.ok) ? ExitCode.ok : ExitCode.failed };
}

async function checkJob(job: ResolvedJob, env: NodeJS.ProcessEnv, logger?: Logger): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const line = (check: string, ok: boolean, detail: string) =>
    lines.push({ check: `${job.name}: ${check}`, ok, detail, job: job.name });
  const failure = (error: unknown) => describeError(translateGraphFailure(error, '/'));
  // What a query copied from another plugin stands for, so it can be read (or written) structured.
  if (job.source.kind === 'users' && job.source.query) {
    line('source.query', true, `source.query → ${job.source.query.equivalent}`);
  }

  // The check under way, so a failure is reported on its own line.
  let step = 'Entra token';
  try {
    const { credential, kind, endpoints, graph } = entraConnectionFor(job, env, logger, {
      throttleRetries: 2,
      networkRetries: 1,
    });
    await credential.getToken(graphScope(endpoints));
    line('Entra token', true, `${kind} for app ${job.graph.clientId}`);
    step = 'Graph permission User.Read.All';
    await graph.get('/users?$top=1&$select=id');
    line('Graph permission User.Read.All', true, 'users can be read');
    if (job.source.kind === 'groups' || job.roles.rules.length > 0) {
      await graph.get('/groups?$top=1&$select=id').then(
        () => line('Graph permission GroupMember.Read.All', true, 'groups can be read'),
        (error: unknown) => line('Graph permission GroupMember.Read.All', false, failure(error)),
      );
    }
    if (job.source.kind === 'users') {
      step = 'job query';
      const query = {
        ...job.source,
        select: selectedAttributes(job),
        pageSize: 1,
        count: job.source.count && !mapReadsManager(job.map),
        expandManager: mapReadsManager(job.map),
      };
      const page = await graph.getCollectionPage(
        usersRequestPath(query),
        needsEventualConsistency(query) ? { ConsistencyLevel: 'eventual' } : {},
      );
      line(
        'job query',
        true,
        page.count === undefined ? 'runs (count not asked for)' : `${page.count} users`,
      );
    }
  } catch (error) {
    line(step, false, failure(error));
  }

  const client = wordpressClientFor(job, env, { retries: 1, timeoutMs: 15_000, passwordMayBeMissing: true });
  try {
    requireApplicationPassword(env, job);
    const account = await fetchSiteAccount(client);
    line('WordPress reachable', true, client.siteUrl);
    line('application password', true, `signed in as ${account.username}`);
    const missing = missingCapabilities(account);
    line(
      'can create, edit, promote and delete users',
      missing.length === 0,
      missing.length === 0
        ? account.roles.join(', ')
        : `missing ${missing.join(', ')}: use an administrator account`,
    );
    if (missing.length === 0) {
      await assertUsersRoutes(client, account).then(
        () => line('users endpoints', true, 'the users listing answers'),
        (error: unknown) => line('users endpoints', false, describeError(error)),
      );
    }
    const companion = await fetchCompanionInfo(client).catch((error: unknown) => {
      if (error instanceof CompanionSwitchedOffError) return error;
      throw error;
    });
    line(
      'companion plugin',
      companion !== undefined && !(companion instanceof CompanionSwitchedOffError),
      companion instanceof CompanionSwitchedOffError
        ? describeError(companion)
        : companion
          ? `version ${companion.version}`
          : 'not installed: copy wordpress-plugin/entra-wp-sync.php into wp-content/mu-plugins/ (disabled users could still sign in)',
    );
    lines.push(
      ...(await checkState(job, client)).map((item) => ({
        ...item,
        check: `${job.name}: ${item.check}`,
        job: job.name,
      })),
    );
  } catch (error) {
    const message = describeError(error);
    const unreachable =
      /Could not reach|No WordPress REST API|not trusted|did not answer|could not be resolved/.test(message);
    const noUsersRoutes = error instanceof WordPressRequestError && error.code === 'rest_no_route';
    line(
      unreachable ? 'WordPress reachable' : noUsersRoutes ? 'users endpoints' : 'application password',
      false,
      message,
    );
  } finally {
    await client.close();
  }

  if (job.notify.email && job.notify.email.on !== 'never' && job.notify.email.via === 'smtp') {
    const smtpUrl = readVariable(env, 'SMTP_URL');
    if (!smtpUrl)
      line(
        'mail transport',
        false,
        'SMTP_URL is not set: put the SMTP URL (smtp(s)://user:pass@host:port) in the environment',
      );
    else {
      const verified = await verifySmtpTransport(smtpUrl);
      line(
        'mail transport',
        verified.sent,
        verified.sent ? 'SMTP server accepted the connection' : `SMTP: ${verified.reason}`,
      );
    }
  }
  return lines;
}

async function checkState(job: ResolvedJob, client: WordPressClient): Promise<CheckLine[]> {
  try {
    if (job.state.backend === 'file') {
      await mkdir(job.state.directory, { recursive: true });
      const probe = join(job.state.directory, `.check-${randomUUID()}`);
      await writeFile(probe, 'ok');
      await rm(probe);
      return [{ check: 'state backend writable', ok: true, detail: job.state.directory }];
    }
    const store = stateStoreFor(job, () => client);
    await store.load(job.name);
    const lock = await store.lock(`${job.name}-check`.slice(0, 63), {
      runId: randomUUID(),
      pid: process.pid,
      host: hostname(),
      startedAt: new Date().toISOString(),
    });
    await lock.release();
    return [{ check: 'state backend writable', ok: true, detail: store.description }];
  } catch (error) {
    return [{ check: 'state backend writable', ok: false, detail: describeError(error) }];
  }
}
