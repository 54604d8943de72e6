// Thin layer over the official Graph client: Retry-After honoured on 429/503/504 by the
// client's RetryHandler, network resets and 500/502 retried here (the SDK does not),
// and Graph/identity errors turned into messages an administrator can act on.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import {
  Client,
  GraphError,
  MiddlewareFactory,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import pRetry, { AbortError } from 'p-retry';
import { ActionableError, ExitCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { type CloudEndpoints, graphScope } from './clouds.ts';
import { EntraError, EntraSignInError } from './entra-errors.ts';
import { GraphRequestLog } from './request-log.ts';

export interface GraphCollectionPage<T> {
  value: T[];
  nextLink: string | undefined;
  deltaLink: string | undefined;
  count: number | undefined;
}

export interface GraphApiOptions {
  /** Retries of one request after 429/503/504 (Retry-After honoured), at most 10. */
  throttleRetries?: number;
  /** Retries after a connection reset or a 500/502. */
  networkRetries?: number;
  /** Seconds to wait before a retry when Graph gives no Retry-After. */
  retryDelaySeconds?: number;
  /** Gets each request's status, request-id and retry waits at debug level. */
  logger?: Logger | undefined;
}

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

export class GraphApi {
  readonly #client: Client;
  readonly #credential: RememberedFailures;
  readonly #throttleRetries: number;
  readonly #networkRetries: number;
  readonly #retryDelaySeconds: number;
  readonly #logger: Logger | undefined;
  requestCount = 0;

  constructor(credential: TokenCredential, endpoints: CloudEndpoints, options: GraphApiOptions = {}) {
    this.#credential = new RememberedFailures(credential);
    const authProvider = new TokenCredentialAuthenticationProvider(this.#credential, {
      scopes: [graphScope(endpoints)],
    });
    const host = new URL(endpoints.graphEndpoint).hostname;
    const middleware = MiddlewareFactory.getDefaultMiddlewareChain(authProvider);
    // Last before the handler that sends: it sees every attempt the RetryHandler makes.
    if (options.logger) middleware.splice(-1, 0, new GraphRequestLog(options.logger));
    this.#client = Client.initWithMiddleware({
      middleware,
      baseUrl: `${endpoints.graphEndpoint}/`,
      defaultVersion: 'v1.0',
      // The client only attaches tokens to hosts it knows; sovereign and test hosts
      // must be named here, without a port.
      customHosts: new Set([host]),
    });
    this.#throttleRetries = Math.min(options.throttleRetries ?? 8, 10);
    this.#networkRetries = options.networkRetries ?? 4;
    this.#retryDelaySeconds = options.retryDelaySeconds ?? 1;
    this.#logger = options.logger;
  }

  /** GET a path ("/users?...") or an absolute link returned by Graph (nextLink). */
  async get<T>(pathOrLink: string, headers: Record<string, string> = {}): Promise<T> {
    return pRetry(
      async () => {
        this.requestCount++;
        try {
          return (await this.#client
            .api(pathOrLink)
            .headers(headers)
            .middlewareOptions([new RetryHandlerOptions(this.#retryDelaySeconds, this.#throttleRetries)])
            .get()) as T;
        } catch (error) {
          const translated = translateGraphFailure(this.#credential.behind(error), pathOrLink);
          if (!isTransient(error)) throw new AbortError(translated);
          throw translated;
        }
      },
      {
        retries: this.#networkRetries,
        minTimeout: 200,
        factor: 2,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0)
            this.#logger?.debug(
              `Graph ${describePath(pathOrLink)} failed (${error.message}); retry ${attemptNumber} of ${this.#networkRetries} after a backoff from 200 ms`,
            );
        },
      },
    );
  }

  async getCollectionPage<T>(pathOrLink: string, headers: Record<string, string> = {}) {
    const body = await this.get<Record<string, unknown>>(pathOrLink, headers);
    const page: GraphCollectionPage<T> = {
      value: Array.isArray(body.value) ? (body.value as T[]) : [],
      nextLink: stringOrUndefined(body['@odata.nextLink']),
      deltaLink: stringOrUndefined(body['@odata.deltaLink']),
      count: typeof body['@odata.count'] === 'number' ? body['@odata.count'] : undefined,
    };
    return page;
  }

  async getBinary(path: string): Promise<Buffer | undefined> {
    try {
      this.requestCount++;
      const data = (await this.#client
        .api(path)
        .responseType('arraybuffer' as never)
        .middlewareOptions([new RetryHandlerOptions(this.#retryDelaySeconds, this.#throttleRetries)])
        .get()) as ArrayBuffer;
      return Buffer.from(data);
    } catch (error) {
      // A missing photo is a 404 whose code varies; the status is what counts.
      if (error instanceof GraphError && error.statusCode === 404) return undefined;
      throw translateGraphFailure(this.#credential.behind(error), path);
    }
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    this.requestCount++;
    try {
      return (await this.#client
        .api(path)
        .middlewareOptions([new RetryHandlerOptions(this.#retryDelaySeconds, this.#throttleRetries)])
        .post(body)) as T;
    } catch (error) {
      throw translateGraphFailure(this.#credential.behind(error), path);
    }
  }
}

/**
 * The Graph client turns a credential's error into a GraphError with only its name and
 * message; this keeps the error itself, so a hint it carries reaches the administrator.
 */
class RememberedFailures implements TokenCredential {
  readonly #credential: TokenCredential;
  #last: Error | undefined;

  constructor(credential: TokenCredential) {
    this.#credential = credential;
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    try {
      return await this.#credential.getToken(scopes, options);
    } catch (error) {
      if (error instanceof Error) this.#last = error;
      throw error;
    }
  }

  /** The credential's own error behind the client's GraphError, or the error as it is. */
  behind(error: unknown): unknown {
    const last = this.#last;
    const fromCredential =
      error instanceof GraphError &&
      error.statusCode === -1 &&
      last !== undefined &&
      error.message === last.message;
    return fromCredential ? last : error;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function isTransient(error: unknown): boolean {
  if (isCredentialFailure(error)) return false;
  if (error instanceof GraphError && error.statusCode > 0) {
    return error.statusCode === 500 || error.statusCode === 502;
  }
  return isNetworkFailure(error);
}

/** The graph client reports credential failures as GraphError -1 named after the cause. */
function isCredentialFailure(error: unknown): boolean {
  const name = error instanceof GraphError ? (error.code ?? '') : error instanceof Error ? error.name : '';
  return /CredentialUnavailableError|AuthenticationError|AuthenticationRequiredError/.test(name);
}

function isNetworkFailure(error: unknown): boolean {
  const codes = new Set([
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'UND_ERR_SOCKET',
    'ECONNREFUSED',
    'UND_ERR_CLOSED',
  ]);
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return true;
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

export function translateGraphFailure(error: unknown, path: string): ActionableError {
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
    const where = describePath(path);
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
  if (error instanceof Error && /CredentialUnavailableError|AuthenticationError/.test(error.name)) {
    return new EntraSignInError(
      `Could not get a token from Entra: ${firstLine(message)}`,
      hint ? { hint, cause: error } : { cause: error },
    );
  }
  if (isNetworkFailure(error)) {
    return new EntraError(`Could not reach Microsoft Graph (${describePath(path)}): ${message}`, {
      hint: 'Check network access to the Graph endpoint, proxies and TLS trust (NODE_EXTRA_CA_CERTS).',
      cause: error,
    });
  }
  return new EntraError(
    `Graph request failed for ${describePath(path)}: ${firstLine(message)}`,
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

function describePath(path: string): string {
  // Page links carry opaque tokens; the resource path is what a person needs.
  try {
    const url = new URL(path, 'https://graph.invalid');
    return `GET ${url.pathname}`;
  } catch {
    return path;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
