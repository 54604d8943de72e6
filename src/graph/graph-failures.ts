// Graph's and the identity library's failures turned into messages an administrator can act
// on: which permission, secret, certificate or query is wrong, and what to do about it.
import { GraphError } from '@microsoft/microsoft-graph-client';
import { ActionableError, ExitCode } from '../errors.ts';
import { transientNetworkErrorCodes } from '../http/retry-policy.ts';
import { EntraError, EntraSignInError } from './entra-errors.ts';

export class GraphRequestError extends EntraError {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string, hint?: string, exitCode?: number) {
    super(message, { ...(hint ? { hint } : {}), ...(exitCode === undefined ? {} : { exitCode }) });
    this.name = 'GraphRequestError';
    this.status = status;
    this.code = code;
  }
}

/** The graph client reports credential failures as GraphError -1 named after the cause. */
function isCredentialFailure(error: unknown): boolean {
  const name = error instanceof GraphError ? (error.code ?? '') : error instanceof Error ? error.name : '';
  return /CredentialUnavailableError|AuthenticationError|AuthenticationRequiredError/.test(name);
}

/** No answer from Graph: the GraphError made of fetch's failure keeps only "fetch failed". */
function isNetworkFailure(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && transientNetworkErrorCodes.includes(code)) return true;
    if (e.message === 'fetch failed' && e.cause === undefined) return true;
  }
  return false;
}

const credentialHints: Array<[RegExp, string]> = [
  [
    /AADSTS7000215/,
    'The client secret is wrong or expired: create a new one under Certificates & secrets and update AZURE_CLIENT_SECRET.',
  ],
  [/AADSTS7000222/, 'The client secret has expired: create a new one and update AZURE_CLIENT_SECRET.'],
  [
    /AADSTS700016/,
    'No application with this clientId exists in the tenant: check graph.clientId and graph.tenantId.',
  ],
  [
    /AADSTS90002|AADSTS900023/,
    'The tenant was not found: check graph.tenantId (a GUID or a verified domain) and graph.cloud.',
  ],
  [
    /AADSTS700213|AADSTS70021/,
    'No federated credential matches this workflow: add one whose subject is repo:ORG/REPO:ref:refs/heads/BRANCH (or :environment:NAME).',
  ],
  [
    /AADSTS700027|AADSTS700024/,
    'The certificate assertion was rejected: upload the certificate (.cer) to the app registration and check the clock.',
  ],
  [
    /AADSTS50000\b|AADSTS50196\b/,
    "Entra's sign-in service failed on Microsoft's side (the token request was already retried): run again later, and open a Microsoft support case if it persists.",
  ],
  [
    /endpoints_resolution_error/,
    'The authority could not be reached over TLS: check graph.authorityHost and that its certificate is trusted.',
  ],
];

export function translateGraphFailure(error: unknown, path: string, method = 'GET'): ActionableError {
  if (error instanceof ActionableError) return error;
  if (isCredentialFailure(error)) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/undefined\s*$/, '');
    const hint =
      credentialHints.find(([pattern]) => pattern.test(message))?.[1] ??
      (/id-token: write/.test(message)
        ? 'Add `permissions: id-token: write` to the workflow job, or set AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH instead.'
        : undefined);
    return new EntraSignInError(
      `Could not get a token from Entra: ${firstLine(message)}`,
      hint ? { hint, cause: error } : { cause: error },
    );
  }
  if (error instanceof GraphError && error.statusCode > 0) {
    const where = describePath(path, method);
    if (error.statusCode === 403 || error.code === 'Authorization_RequestDenied') {
      return new GraphRequestError(
        error.statusCode,
        error.code ?? 'Forbidden',
        `Graph refused ${where}: ${error.message}`,
        'Grant the app registration the application permissions User.Read.All (and GroupMember.Read.All for groups, ProfilePhoto.Read.All for photos) and give admin consent.',
      );
    }
    if (error.statusCode === 401) {
      return new GraphRequestError(
        401,
        error.code ?? 'Unauthorized',
        `Graph did not accept the access token for ${where}: ${error.message}`,
        'Check graph.cloud/endpoint: the token must be issued for the same Graph host.',
      );
    }
    if (isRefusedQuery(error, path)) {
      // The job's own query is wrong: a configuration problem (exit 2), fixed in jobs.yaml.
      return new GraphRequestError(
        400,
        error.code ?? 'BadRequest',
        `Graph refused the query of ${where} (${error.code}): ${error.message}`,
        "Fix source.users.filter or source.users.search in jobs.yaml (OData strings go in single quotes, e.g. department eq 'Sales'); ne, not, endsWith and $search are advanced queries, which B2C tenants refuse (set source.count: false there). `entra-wp-sync check` tries the query without writing anything.",
        ExitCode.usage,
      );
    }
    return new GraphRequestError(
      error.statusCode,
      error.code ?? 'GraphError',
      `Graph answered ${error.statusCode} ${error.code ?? ''} for ${where}: ${error.message}`.replace(
        /\s+/g,
        ' ',
      ),
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const hint = credentialHints.find(([pattern]) => pattern.test(message))?.[1];
  if (isNetworkFailure(error)) {
    return new EntraError(`Could not reach Microsoft Graph (${describePath(path, method)}): ${message}`, {
      hint: 'Check network access to the Graph endpoint, proxies and TLS trust (NODE_EXTRA_CA_CERTS).',
      cause: error,
    });
  }
  return new EntraError(
    `Graph request failed for ${describePath(path, method)}: ${firstLine(message)}`,
    hint ? { hint, cause: error } : { cause: error },
  );
}

const queryErrorCodes = new Set(['BadRequest', 'Request_BadRequest', 'Request_UnsupportedQuery']);

/** A 400 for a request that carried the job's $filter, $search or $count. */
function isRefusedQuery(error: GraphError, path: string): boolean {
  return (
    error.statusCode === 400 &&
    queryErrorCodes.has(error.code ?? '') &&
    /[?&]\$(?:filter|search|count)=/.test(path)
  );
}

export function describePath(path: string, method: string): string {
  // Page links carry opaque tokens; the resource path is what a person needs.
  try {
    const url = new URL(path, 'https://graph.invalid');
    return `${method} ${url.pathname}`;
  } catch {
    return path;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
