// Thin layer over the official Graph client: every request goes through the sync's one
// retry policy (src/http/retry-policy.ts), with the client's own RetryHandler left out of
// the chain so that no request is retried by two loops at once; Graph/identity errors are
// turned into messages an administrator can act on.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import {
  Client,
  type Context,
  GraphError,
  type GraphRequest,
  type Middleware,
  MiddlewareFactory,
  type MiddlewareOptions,
  ResponseType,
  RetryHandler,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { ActionableError, ExitCode } from '../errors.ts';
import {
  type AttemptFailure,
  defaultRetryPolicy,
  describeAbandoned,
  describeRetry,
  type RetryPolicy,
  transientNetworkErrorCodes,
  withRetries,
} from '../http/retry-policy.ts';
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
  /**
   * Retries of one request after a 429, a 5xx or a broken connection. One policy retries
   * all of these, so throttleRetries and networkRetries name the same number: the larger
   * one counts. Default 4 (5 attempts); the waits add up to at most 60 s.
   */
  throttleRetries?: number;
  /** See throttleRetries. */
  networkRetries?: number;
  /** Seconds of the first backoff when Graph gives no Retry-After (it doubles); default 1. */
  retryDelaySeconds?: number;
  /** Gets each request's status, request-id and retry waits at debug level. */
  logger?: Logger | undefined;
}

export interface GraphPostOptions {
  /**
   * Whether Graph may get this request twice. Default: true for a $batch of GETs only.
   * A request that must not arrive twice (sendMail) is sent again only when Graph provably
   * did not act on it: no connection was made, or a 429/503 came with a Retry-After.
   */
  idempotent?: boolean;
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
  readonly #retryPolicy: RetryPolicy;
  readonly #logger: Logger | undefined;
  /** Requests sent, each retry counted. */
  requestCount = 0;

  constructor(credential: TokenCredential, endpoints: CloudEndpoints, options: GraphApiOptions = {}) {
    this.#credential = new RememberedFailures(credential);
    const authProvider = new TokenCredentialAuthenticationProvider(this.#credential, {
      scopes: [graphScope(endpoints)],
    });
    const host = new URL(endpoints.graphEndpoint).hostname;
    const middleware = MiddlewareFactory.getDefaultMiddlewareChain(authProvider).filter(
      (handler) => !(handler instanceof RetryHandler),
    );
    // Last before the handler that sends, in this order: the log sees every attempt, and
    // the recorder every error fetch throws.
    middleware.splice(
      -1,
      0,
      ...(options.logger ? [new GraphRequestLog(options.logger)] : []),
      new SendFailureRecorder(),
    );
    this.#client = Client.initWithMiddleware({
      middleware,
      baseUrl: `${endpoints.graphEndpoint}/`,
      defaultVersion: 'v1.0',
      // The client only attaches tokens to hosts it knows; sovereign and test hosts
      // must be named here, without a port.
      customHosts: new Set([host]),
    });
    this.#retryPolicy = graphRetryPolicy(options);
    this.#logger = options.logger;
  }

  /** GET a path ("/users?...") or an absolute link returned by Graph (nextLink). */
  async get<T>(pathOrLink: string, headers: Record<string, string> = {}): Promise<T> {
    return this.#send(pathOrLink, 'GET', true, (request) => request.headers(headers).get());
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

  /** The bytes at `path`, or undefined for a 404 (a user without a photo). */
  async getBinary(path: string): Promise<Buffer | undefined> {
    try {
      const data = await this.#send<ArrayBuffer>(path, 'GET', true, (request) =>
        request.responseType(ResponseType.ARRAYBUFFER).get(),
      );
      return Buffer.from(data);
    } catch (error) {
      // A missing photo is a 404 whose code varies; the status is what counts.
      if (error instanceof GraphRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  async post<T>(path: string, body: unknown, options: GraphPostOptions = {}): Promise<T> {
    const idempotent = options.idempotent ?? isBatchOfReads(path, body);
    return this.#send(path, 'POST', idempotent, (request) => request.post(body));
  }

  /** One request, retried as the policy says, its last failure translated. */
  async #send<T>(
    path: string,
    method: 'GET' | 'POST',
    idempotent: boolean,
    call: (request: GraphRequest) => Promise<T>,
  ): Promise<T> {
    const where = describePath(path, method);
    let sent: SendFailure | undefined;
    try {
      return await withRetries(
        () => {
          this.requestCount++;
          sent = new SendFailure();
          return call(this.#client.api(path).middlewareOptions([sent]));
        },
        this.#retryPolicy,
        {
          idempotent,
          failureOfError: (error) => graphFailure(error, sent?.error),
          onRetry: (retry) => this.#logger?.debug(`Graph ${where} ${describeRetry(retry)}`),
          onAbandoned: (abandoned) => this.#logger?.debug(`Graph ${where} ${describeAbandoned(abandoned)}`),
        },
      );
    } catch (error) {
      throw translateGraphFailure(this.#credential.behind(error), path, method);
    }
  }
}

function graphRetryPolicy(options: GraphApiOptions): RetryPolicy {
  const given = [options.throttleRetries, options.networkRetries].filter(
    (retries): retries is number => retries !== undefined,
  );
  const retries = given.length > 0 ? Math.max(...given) : defaultRetryPolicy.maxAttempts - 1;
  return {
    ...defaultRetryPolicy,
    maxAttempts: Math.max(0, retries) + 1,
    baseDelayMs: (options.retryDelaySeconds ?? 1) * 1000,
  };
}

/**
 * What a failed attempt was, for the retry policy; undefined when retrying cannot help:
 * no token (the credential has retried already), or the client's own error.
 */
function graphFailure(error: unknown, sendError: unknown): AttemptFailure | undefined {
  if (sendError !== undefined) return { kind: 'network', error: sendError };
  if (error instanceof GraphError && error.statusCode > 0) {
    return { kind: 'answer', status: error.statusCode, retryAfter: error.headers?.get('retry-after') };
  }
  return undefined;
}

/** A JSON batch of GETs only reads: Graph getting it twice changes nothing. */
function isBatchOfReads(path: string, body: unknown): boolean {
  if (!new URL(path, 'https://graph.invalid').pathname.endsWith('/$batch')) return false;
  const requests = typeof body === 'object' && body !== null ? (body as { requests?: unknown }).requests : [];
  return (
    Array.isArray(requests) &&
    requests.length > 0 &&
    requests.every(
      (request) =>
        typeof request === 'object' &&
        request !== null &&
        String((request as { method?: unknown }).method).toUpperCase() === 'GET',
    )
  );
}

/** Per request: the error fetch threw, if it did (the GraphError made of it drops its cause). */
class SendFailure implements MiddlewareOptions {
  error: unknown = undefined;
}

/**
 * Sits just before the handler that calls fetch, so what it catches failed on the wire;
 * the code behind it (ECONNREFUSED, or a reset) tells whether the request left.
 */
class SendFailureRecorder implements Middleware {
  #next: Middleware | undefined;

  setNext(next: Middleware): void {
    this.#next = next;
  }

  async execute(context: Context): Promise<void> {
    try {
      await this.#next?.execute(context);
    } catch (error) {
      const record = context.middlewareControl?.getMiddlewareOptions(SendFailure);
      if (record instanceof SendFailure) record.error = error;
      throw error;
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

function describePath(path: string, method: string): string {
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
