// `entra-wp-sync check`: the self-test of SPEC §6. Each line passes or fails with what
// to do about it; nothing is written to WordPress.
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { loadConfig, selectJobs } from '../../config/load.ts';
import type { ResolvedJob } from '../../config/resolve.ts';
import { ActionableError, describeError, ExitCode } from '../../errors.ts';
import { graphScope, resolveCloudEndpoints } from '../../graph/clouds.ts';
import { type CredentialEnvironment, selectCredential } from '../../graph/credentials.ts';
import { GraphApi, translateGraphFailure } from '../../graph/graph-api.ts';
import { needsEventualConsistency, usersRequestPath } from '../../graph/users-query.ts';
import { WordPressStateStore } from '../../state/wordpress-store.ts';
import { selectedAttributes } from '../../sync/cycle-job.ts';
import { applicationPasswordOf } from '../../sync/run-jobs.ts';
import { fetchCompanionInfo } from '../../wordpress/companion.ts';
import { WordPressClient } from '../../wordpress/rest-client.ts';
import { fetchSiteAccount, missingCapabilities } from '../../wordpress/site-account.ts';

export interface CheckLine {
  check: string;
  ok: boolean;
  detail: string;
}

export interface CheckCommandOptions {
  configPath: string;
  job: string | undefined;
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
}

export async function checkCommand(options: CheckCommandOptions): Promise<number> {
  const lines: CheckLine[] = [];
  let jobs: ResolvedJob[];
  try {
    jobs = selectJobs(
      await loadConfig(options.configPath, options.env),
      options.job ? [options.job] : undefined,
    );
    lines.push({ check: 'config valid', ok: true, detail: `${options.configPath}: ${jobs.length} job(s)` });
  } catch (error) {
    lines.push({ check: 'config valid', ok: false, detail: describeError(error) });
    options.stdout(renderLines(lines));
    return error instanceof ActionableError ? error.exitCode : ExitCode.usage;
  }
  for (const job of jobs) lines.push(...(await checkJob(job, options.env)));
  options.stdout(renderLines(lines));
  return lines.every((line) => line.ok) ? ExitCode.ok : ExitCode.failed;
}

async function checkJob(job: ResolvedJob, env: NodeJS.ProcessEnv): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const line = (check: string, ok: boolean, detail: string) =>
    lines.push({ check: `${job.name}: ${check}`, ok, detail });
  const failure = (error: unknown) => describeError(translateGraphFailure(error, '/'));

  const endpoints = resolveCloudEndpoints(job.graph);
  try {
    const { credential, kind } = selectCredential(
      {
        tenantId: job.graph.tenantId,
        clientId: job.graph.clientId,
        endpoints,
        customAuthority: job.graph.authorityHost !== undefined,
      },
      env as CredentialEnvironment,
    );
    await credential.getToken(graphScope(endpoints));
    line('Entra token', true, `${kind} for app ${job.graph.clientId}`);
    const graph = new GraphApi(credential, endpoints, { throttleRetries: 2, networkRetries: 1 });
    await graph.get('/users?$top=1&$select=id');
    line('Graph permission User.Read.All', true, 'users can be read');
    if (job.source.kind === 'groups' || job.roles.rules.length > 0) {
      await graph.get('/groups?$top=1&$select=id').then(
        () => line('Graph permission GroupMember.Read.All', true, 'groups can be read'),
        (error: unknown) => line('Graph permission GroupMember.Read.All', false, failure(error)),
      );
    }
    if (job.source.kind === 'users') {
      const query = { ...job.source, select: selectedAttributes(job), pageSize: 1, count: job.source.count };
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
    line(lines.length === 0 ? 'Entra token' : 'Graph', false, failure(error));
  }

  const client = new WordPressClient(
    {
      url: job.wordpress.url,
      username: job.wordpress.username,
      applicationPassword: env[job.wordpress.applicationPasswordEnv] ?? '',
    },
    { retries: 1, timeoutMs: 15_000 },
  );
  try {
    applicationPasswordOf(job, env);
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
    const companion = await fetchCompanionInfo(client);
    line(
      'companion plugin',
      companion !== undefined,
      companion
        ? `version ${companion.version}`
        : 'not installed: copy wordpress-plugin/entra-wp-sync.php into wp-content/mu-plugins/ (disabled users could still sign in)',
    );
    lines.push(
      ...(await checkState(job, client)).map((item) => ({ ...item, check: `${job.name}: ${item.check}` })),
    );
  } catch (error) {
    const message = describeError(error);
    const unreachable =
      /Could not reach|No WordPress REST API|not trusted|did not answer|could not be resolved/.test(message);
    line(unreachable ? 'WordPress reachable' : 'application password', false, message);
  } finally {
    await client.close();
  }

  if (job.notify.email && job.notify.email.on !== 'never' && job.notify.email.via === 'smtp') {
    const smtpUrl = env.SMTP_URL;
    if (!smtpUrl)
      line(
        'mail transport',
        false,
        'SMTP_URL is not set: put the SMTP URL (smtp(s)://user:pass@host:port) in the environment',
      );
    else {
      await nodemailer
        .createTransport(smtpUrl)
        .verify()
        .then(
          () => line('mail transport', true, 'SMTP server accepted the connection'),
          (error: unknown) =>
            line(
              'mail transport',
              false,
              `SMTP: ${(error as Error).message.replaceAll(smtpUrl, '<SMTP_URL>')}`,
            ),
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
    const store = new WordPressStateStore(client);
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

function renderLines(lines: readonly CheckLine[]): string {
  const width = Math.max(...lines.map((line) => line.check.length));
  return `${lines
    .map(
      (line) =>
        `${line.ok ? 'pass' : 'FAIL'}  ${line.check.padEnd(width)}  ${line.detail.replace(/\n\s*/g, ' ')}`,
    )
    .join('\n')}\n`;
}
