// The WordPress REST API over undici, with application-password auth and retries for
// transient failures (src/http/retry-policy.ts, shared with Graph). Decisions about what a
// failure means for a user live in src/rules and src/engine.
import { Agent, type Dispatcher, request } from 'undici';
import { ActionableError, ExitCode } from '../errors.ts';
import { withLoggedRetries } from '../http/logged-retries.ts';
import { type AttemptFailure, type RetryPolicy, retryPolicyWith } from '../http/retry-policy.ts';
import type { Logger } from '../log/logger.ts';
import {
  applicationPasswordsOffFailure,
  httpFailure,
  networkFailure,
  redirectFailure,
  restRouteOf,
  WordPressError,
  WordPressRequestError,
} from './errors.ts';

export interface WordPressConnection {
  url: string;
  username: string;
  applicationPassword: string;
}

export interface WordPressClientOptions {
  /** Parallel connections to the site. */
  connections?: number;
  /** Milliseconds to wait for response headers. */
  timeoutMs?: number;
  /**
   * Retries of a transient failure (reset, timeout, 429, a 5xx such as a PHP fatal), default
   * 4; the waits add up to at most 60 s. Requests sent with `retry: false` get none.
   */
  retries?: number;
  /** The first backoff when WordPress gives no Retry-After (it doubles); default 250. */
  retryBaseDelayMs?: number;
  /** Gets each retry and its wait at debug level. */
  logger?: Logger | undefined;
  /**
   * Ask the companion plugin to let WordPress send its own emails (email or password
   * changed, new user) about the changes this client makes; without it they are not sent.
   */
  wordpressEmails?: 'quiet' | 'send' | undefined;
}

export interface WordPressResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data: T;
}

/** A file sent as the raw request body (POST /wp/v2/media). */
export class FileUpload {
  readonly bytes: Buffer;
  readonly contentType: string;
  readonly filename: string;
  /** Sent with the upload, e.g. for the companion plugin to mark what the file is. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(bytes: Buffer, contentType: string, filename: string, headers: Record<string, string> = {}) {
    this.bytes = bytes;
    this.contentType = contentType;
    this.filename = filename;
    this.headers = headers;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /**
   * false: sent once, whatever happens. For creates: a replay can make a second account,
   * so the caller looks for what may have landed before it tries again. Default true.
   */
  retry?: boolean;
}

type RouteStyle = 'pretty' | 'plain';

export class WordPressClient {
  readonly siteUrl: string;
  readonly username: string;
  readonly #authorization: string;
  readonly #dispatcher: Dispatcher;
  readonly #timeoutMs: number;
  readonly #retryPolicy: RetryPolicy;
  readonly #logger: Logger | undefined;
  readonly #sendsWordPressEmails: boolean;
  /** `pretty` uses /wp-json/, `plain` uses /index.php?rest_route= on sites without permalinks. */
  #routeStyle: RouteStyle = 'pretty';
  requestCount = 0;
  writeCount = 0;

  constructor(connection: WordPressConnection, options: WordPressClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(connection.url);
    } catch {
      throw new ActionableError(`wordpress.url "${connection.url}" is not a URL.`, {
        exitCode: ExitCode.usage,
        hint: 'Use the site address, e.g. https://intranet.example.com',
      });
    }
    this.siteUrl = parsed.href.replace(/\/+$/, '');
    this.username = connection.username;
    this.#authorization = `Basic ${Buffer.from(`${connection.username}:${connection.applicationPassword.replace(/\s+/g, '')}`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#retryPolicy = retryPolicyWith(options.retries, options.retryBaseDelayMs ?? 250);
    this.#logger = options.logger;
    this.#sendsWordPressEmails = options.wordpressEmails === 'send';
    this.#dispatcher = new Agent({
      connections: options.connections ?? 8,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      connect: { timeout: 10_000 },
    });
  }

  /**
   * Requests `route` once to learn where the REST API lives: /wp-json/ normally,
   * /index.php?rest_route= on sites with plain permalinks (there WordPress redirects
   * /wp-json/ to the home page, and nginx answers a method other than GET, HEAD or POST to
   * /?rest_route= with 405). Returns that first answer.
   */
  async discoverRoutes<T>(route: string, query?: RequestOptions['query']): Promise<WordPressResponse<T>> {
    // What the /wp-json/ attempt met, reported when neither way reaches the REST API.
    let redirected: unknown;
    let noRoute: { style: RouteStyle; response: WordPressResponse<unknown> } | undefined;
    for (const style of ['pretty', 'plain'] as const) {
      this.#routeStyle = style;
      const url = this.routeUrl(route, query);
      let response: WordPressResponse<unknown>;
      try {
        response = await this.#send('GET', url, undefined, true);
      } catch (error) {
        // Plain permalinks: WordPress sends /wp-json/… to its home page, on the same site.
        if (style === 'pretty' && this.#redirectsWithinSite(error)) {
          redirected = error;
          continue;
        }
        throw error;
      }
      if (isRestAnswer(response.data)) {
        if (response.status === 401) throw await this.#signInFailure(response, url);
        if (response.status >= 400)
          throw httpFailure(response.status, response.data, 'GET', url, this.username);
        return response as WordPressResponse<T>;
      }
      if (isNoRoute(response.data)) noRoute ??= { style, response };
    }
    if (noRoute) {
      // The REST API answers, without this route (a plugin removed it, or is not installed).
      this.#routeStyle = noRoute.style;
      const { status, data } = noRoute.response;
      throw httpFailure(status, data, 'GET', this.routeUrl(route, query), this.username);
    }
    if (redirected) throw redirected;
    throw new WordPressError(`No WordPress REST API answers at ${this.siteUrl}.`, {
      hint: 'Check wordpress.url (the site address, not /wp-admin), and that no security plugin disables the REST API.',
    });
  }

  #redirectsWithinSite(error: unknown): boolean {
    if (!(error instanceof WordPressRequestError) || !isRedirect(error.status)) return false;
    const { details } = error;
    const location =
      typeof details === 'object' && details !== null && 'location' in details
        ? String(details.location)
        : '';
    return URL.canParse(location) && new URL(location).origin === new URL(this.siteUrl).origin;
  }

  /**
   * A refused sign-in. WordPress answers a wrong application password, one switched off
   * for the account and one switched off for the whole site alike (401
   * rest_not_logged_in), but its REST index lists application passwords only where the
   * site offers them.
   */
  async #signInFailure(response: WordPressResponse<unknown>, url: string): Promise<WordPressRequestError> {
    const refused = httpFailure(response.status, response.data, 'GET', url, this.username);
    try {
      const index = await this.#send(
        'GET',
        this.routeUrl('/', { _fields: 'authentication' }),
        undefined,
        false,
      );
      if (index.status === 200 && !offersApplicationPasswords(index.data)) {
        return applicationPasswordsOffFailure(this.siteUrl, refused);
      }
    } catch {
      // No index to read: the refusal as WordPress gave it.
    }
    return refused;
  }

  /**
   * Sends a request, and again after an outage (a reset, 429, a 5xx WordPress does not
   * mean for good) as the retry policy allows. Returns WordPress's last answer, errors
   * included: discovery reads a 404 to learn where the REST API lives.
   */
  async #send(
    method: string,
    url: string,
    body: unknown,
    retry: boolean,
  ): Promise<WordPressResponse<unknown>> {
    if (!retry) return this.#raw(method, url, body, true);
    const where = `WordPress ${method} ${restRouteOf(url)}`;
    return withLoggedRetries(where, () => this.#raw(method, url, body, true), this.#retryPolicy, {
      // Every request sent with retry left on may arrive twice (updates, deletes, reads).
      idempotent: true,
      failureOfAnswer: (response) => this.#answerFailure(method, url, response),
      // Status 0: no answer. A redirect (3xx) is thrown too, and is final.
      failureOfError: (error) =>
        error instanceof WordPressRequestError && error.status === 0
          ? { kind: 'network', error: error.cause }
          : undefined,
      logger: this.#logger,
    });
  }

  /** An error answer worth another attempt; WordPress gives some permanent ones as a 500. */
  #answerFailure(
    method: string,
    url: string,
    response: WordPressResponse<unknown>,
  ): AttemptFailure | undefined {
    if (response.status < 400) return undefined;
    if (!httpFailure(response.status, response.data, method, url, this.username).transient) return undefined;
    const retryAfter = response.headers['retry-after'];
    return {
      kind: 'answer',
      status: response.status,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    };
  }

  /**
   * The one place request URLs are built. A route is a REST route (/wp/v2/users/7, as
   * /batch/v1 items name them too); the query goes beside rest_route on plain permalinks.
   */
  routeUrl(route: string, query?: RequestOptions['query']): string {
    let url: URL;
    if (this.#routeStyle === 'pretty') url = new URL(`${this.siteUrl}/wp-json${route}`);
    else {
      // index.php, as WordPress's own rest_url() has it: nginx serves /?… only to GET and POST.
      url = new URL(`${this.siteUrl}/index.php`);
      url.searchParams.set('rest_route', route);
    }
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  async request<T>(
    method: string,
    route: string,
    options: RequestOptions = {},
  ): Promise<WordPressResponse<T>> {
    const url = this.routeUrl(route, options.query);
    const response = await this.#send(method, url, options.body, options.retry ?? true);
    if (response.status >= 400) throw httpFailure(response.status, response.data, method, url, this.username);
    return response as WordPressResponse<T>;
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  async #raw(
    method: string,
    url: string,
    body: unknown,
    countIt: boolean,
  ): Promise<WordPressResponse<unknown>> {
    if (countIt) {
      this.requestCount++;
      if (method !== 'GET' && method !== 'OPTIONS') this.writeCount++;
    }
    let answer: WordPressResponse<unknown>;
    try {
      const upload = body instanceof FileUpload ? body : undefined;
      // undici follows no redirects unless told to; that must stay so (see redirectFailure).
      const response = await request(url, {
        method: method as Dispatcher.HttpMethod,
        dispatcher: this.#dispatcher,
        headers: {
          authorization: this.#authorization,
          accept: 'application/json',
          // The companion plugin records email and login changes made by anyone but the sync.
          'x-entra-wp-sync': '1',
          ...(this.#sendsWordPressEmails ? { 'x-entra-wp-sync-emails': 'send' } : {}),
          ...(upload
            ? {
                ...upload.headers,
                'content-type': upload.contentType,
                'content-disposition': `attachment; filename="${upload.filename.replace(/[^\w.-]/g, '_')}"`,
              }
            : body === undefined
              ? {}
              : { 'content-type': 'application/json' }),
        },
        ...(upload ? { body: upload.bytes } : body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.body.text();
      answer = { status: response.statusCode, headers: response.headers, data: parseJson(text) };
    } catch (error) {
      throw networkFailure(error, method, url);
    }
    // A redirect is neither a success nor a WordPress error answer: discovery would take a
    // 3xx with a JSON body for the REST API, and a write for done.
    if (answer.status >= 300 && answer.status < 400) {
      const location = answer.headers.location;
      throw redirectFailure(
        answer.status,
        Array.isArray(location) ? location[0] : location,
        method,
        url,
        this.siteUrl,
      );
    }
    return answer;
  }
}

function isRestAnswer(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  return !('code' in data) || (data.code !== 'invalid_json' && data.code !== 'rest_no_route');
}

function isNoRoute(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'code' in data && data.code === 'rest_no_route';
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** The REST index's `authentication` lists application passwords where the site offers them. */
function offersApplicationPasswords(index: unknown): boolean {
  if (typeof index !== 'object' || index === null || !('authentication' in index)) return false;
  const { authentication } = index;
  return (
    typeof authentication === 'object' && authentication !== null && 'application-passwords' in authentication
  );
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // PHP notices or an HTML error page; keep a little for the message.
    return { code: 'invalid_json', message: text.slice(0, 200) };
  }
}
