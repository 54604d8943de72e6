// How a job reaches its Entra tenant, its WordPress site and its saved state: built here
// and nowhere else, for runs, the self-test and the state commands alike.
import type { Env } from '../config/env.ts';
import { readApplicationPassword, requireApplicationPassword } from '../config/environment.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import { GraphApi, type GraphApiOptions } from '../graph/graph-api.ts';
import { jobCredential } from '../graph/job-credential.ts';
import type { Logger } from '../log/logger.ts';
import { FileStateStore } from '../state/file-store.ts';
import type { StateStore } from '../state/state-store.ts';
import { WordPressStateStore } from '../state/wordpress-store.ts';
import type { CompanionInfo } from '../wordpress/companion.ts';
import { WordPressClient, type WordPressClientOptions } from '../wordpress/rest-client.ts';

/** The job's Entra credential (and which kind it is) with a Graph client signed in by it. */
export function entraConnectionFor(
  job: ResolvedJob,
  env: Env,
  logger?: Logger,
  options: Omit<GraphApiOptions, 'logger'> = {},
): ReturnType<typeof jobCredential> & { graph: GraphApi } {
  const connection = jobCredential(job, env, logger);
  return {
    ...connection,
    graph: new GraphApi(connection.credential, connection.endpoints, { ...options, logger }),
  };
}

export function graphApiFor(job: ResolvedJob, env: Env, logger?: Logger): GraphApi {
  return entraConnectionFor(job, env, logger).graph;
}

/**
 * A client for the job's site. The self-test builds one without a password too, so that
 * it can report an unreachable site and a missing password on their own lines.
 */
export function wordpressClientFor(
  job: ResolvedJob,
  env: Env,
  options: WordPressClientOptions & { passwordMayBeMissing?: boolean } = {},
): WordPressClient {
  const { passwordMayBeMissing, ...clientOptions } = options;
  return new WordPressClient(
    {
      url: job.wordpress.url,
      username: job.wordpress.username,
      applicationPassword: passwordMayBeMissing
        ? (readApplicationPassword(env, job.wordpress.applicationPasswordEnv) ?? '')
        : requireApplicationPassword(env, job),
    },
    { wordpressEmails: job.wordpressEmails, ...clientOptions },
  );
}

/** Where the job's checkpoint and lock are kept, as state.backend says. */
export function stateStoreFor(
  job: ResolvedJob,
  client: () => WordPressClient,
  options: { leaseRenewMs?: number | undefined } = {},
): StateStore {
  if (job.state.backend === 'file') return new FileStateStore(job.state.directory);
  return new WordPressStateStore(client(), { renewEveryMs: options.leaseRenewMs });
}

/** The WordPress backend lives in the companion plugin; a site without it cannot hold state. */
export function assertSiteKeepsState(
  job: ResolvedJob,
  siteUrl: string,
  companion: CompanionInfo | undefined,
): void {
  if (job.state.backend !== 'wordpress' || companion?.features.includes('state')) return;
  throw new ActionableError(
    `Job "${job.name}": state.backend "wordpress" needs the companion plugin on ${siteUrl}.`,
    {
      exitCode: ExitCode.usage,
      hint: 'Copy wordpress-plugin/entra-wp-sync.php into wp-content/mu-plugins/, or use state.backend: file.',
    },
  );
}
