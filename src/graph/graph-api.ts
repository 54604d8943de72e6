// Thin layer over the official Graph client: every request goes through the sync's one
// retry policy (src/http/retry-policy.ts), with the client's own RetryHandler left out of
// the chain so that no request is retried by two loops at once; Graph/identity errors are
// turned into messages an administrator can act on.
import type { TokenCredential } from '@azure/identity';
import {
  Client,
  GraphError,
  type GraphRequest,
  MiddlewareFactory,
  ResponseType,
  RetryHandler,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { withLoggedRetries } from '../http/logged-retries.ts';
import { type AttemptFailure, type RetryPolicy, retryPolicyWith } from '../http/retry-policy.ts';
import type { Logger } from '../log/logger.ts';
import { type CloudEndpoints, graphScope } from './clouds.ts';
import { describePath, GraphRequestError, translateGraphFailure } from './graph-failures.ts';
import { RememberedFailures, SendFailure, SendFailureRecorder } from './graph-send-failures.ts';
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
   * Whether Graph may get this request twice (a $batch of GETs may). The caller knows; a
   * request that must not arrive twice (sendMail) is sent again only when Graph provably
   * did not act on it: no connection was made, or a 429/503 came with a Retry-After.
   */
  idempotent: boolean;
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
  async get<T>(
    pathOrLink: string,
    headers: Record<string, string> = {},
    signal?: AbortSignal | undefined,
  ): Promise<T> {
    return this.#send(pathOrLink, 'GET', true, (request) => request.headers(headers).get(), signal);
  }

  /** `signal` stops the waiting between retries, not a request already sent. */
  async getCollectionPage<T>(
    pathOrLink: string,
    headers: Record<string, string> = {},
    signal?: AbortSignal | undefined,
  ) {
    const body = await this.get<Record<string, unknown>>(pathOrLink, headers, signal);
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

  async post<T>(path: string, body: unknown, options: GraphPostOptions): Promise<T> {
    return this.#send(path, 'POST', options.idempotent, (request) => request.post(body));
  }

  /** One request, retried as the policy says, its last failure translated. */
  async #send<T>(
    path: string,
    method: 'GET' | 'POST',
    idempotent: boolean,
    call: (request: GraphRequest) => Promise<T>,
    signal?: AbortSignal | undefined,
  ): Promise<T> {
    const where = describePath(path, method);
    let sent: SendFailure | undefined;
    try {
      return await withLoggedRetries(
        `Graph ${where}`,
        () => {
          this.requestCount++;
          sent = new SendFailure();
          return call(this.#client.api(path).middlewareOptions([sent]));
        },
        this.#retryPolicy,
        {
          idempotent,
          signal,
          failureOfError: (error) => graphFailure(error, sent?.error),
          logger: this.#logger,
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
  return retryPolicyWith(
    given.length > 0 ? Math.max(...given) : undefined,
    (options.retryDelaySeconds ?? 1) * 1000,
  );
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

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
