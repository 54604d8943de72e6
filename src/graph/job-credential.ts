// The Entra credential of a job, built one way for the sync and for the self-test.
import type { Env } from '../config/env.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import type { Logger } from '../log/logger.ts';
import { type CloudEndpoints, resolveCloudEndpoints } from './clouds.ts';
import { type CredentialKind, selectCredential } from './credentials.ts';

export function jobCredential(
  job: ResolvedJob,
  env: Env,
  logger?: Logger,
): {
  credential: ReturnType<typeof selectCredential>['credential'];
  kind: CredentialKind;
  endpoints: CloudEndpoints;
} {
  const endpoints = resolveCloudEndpoints(job.graph);
  const { credential, kind } = selectCredential(
    {
      tenantId: job.graph.tenantId,
      clientId: job.graph.clientId,
      endpoints,
      customAuthority: job.graph.authorityHost !== undefined,
    },
    env,
    logger,
  );
  logger?.debug(
    `${job.name}: Entra credential ${kind} for app ${job.graph.clientId} in tenant ${job.graph.tenantId}`,
  );
  return { credential, kind, endpoints };
}
