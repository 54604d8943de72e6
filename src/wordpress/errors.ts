// WordPress failures translated into what an administrator can do about them.

import { ActionableError } from '../errors.ts';
import { transientNetworkErrorCodes } from '../http/retry-policy.ts';

/** WordPress failed or refused the sync: the site, its REST API or the sync's account. */
export class WordPressError extends ActionableError {
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'WordPressError';
  }
}

export class WordPressRequestError extends WordPressError {
  readonly status: number;
  /** WordPress's error code (`existing_user_login`, `rest_forbidden`…), or a network code. */
  readonly code: string;
  readonly transient: boolean;
  /** The response body, for callers that read more than the code (409 lock holder). */
  readonly details: unknown;

  constructor(
    message: string,
    details: {
      status: number;
      code: string;
      transient: boolean;
      hint?: string;
      cause?: unknown;
      body?: unknown;
    },
  ) {
    super(message, {
      ...(details.hint ? { hint: details.hint } : {}),
      ...(details.cause ? { cause: details.cause } : {}),
    });
    this.name = 'WordPressRequestError';
    this.status = details.status;
    this.code = details.code;
    this.transient = details.transient;
    this.details = details.body;
  }
}

const tlsCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export function networkFailure(error: unknown, method: string, url: string): WordPressRequestError {
  const code = errorCode(error);
  const where = `${method} ${url}`;
  if (tlsCodes.has(code)) {
    return new WordPressRequestError(
      `The TLS certificate of ${new URL(url).origin} is not trusted (${code}).`,
      {
        status: 0,
        code,
        transient: false,
        hint: 'Fix the site certificate, or add its CA to NODE_EXTRA_CA_CERTS. Certificate checks are never switched off.',
        cause: error,
      },
    );
  }
  if (timeoutCodes.has(code)) {
    return new WordPressRequestError(`WordPress did not answer in time: ${where} (${code}).`, {
      status: 0,
      code,
      transient: true,
      hint: 'The site may be overloaded; lower limits.concurrency or raise the PHP/web server timeouts.',
      cause: error,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new WordPressRequestError(`The WordPress host ${new URL(url).host} could not be resolved.`, {
      status: 0,
      code,
      transient: code === 'EAI_AGAIN',
      hint: 'Check wordpress.url.',
      cause: error,
    });
  }
  return new WordPressRequestError(`Could not reach WordPress: ${where} (${code || String(error)}).`, {
    status: 0,
    code: code || 'network',
    transient: transientNetworkErrorCodes.includes(code) || code === '',
    hint: 'Check that wordpress.url is right and the site is up.',
    cause: error,
  });
}

function errorCode(error: unknown): string {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}

// WordPress reports some permanent conditions as 500 (duplicate login/email); those are
// answers, not outages, and must not be retried blindly.
const permanent500Codes = new Set(['existing_user_login', 'existing_user_email', 'user_login_too_long']);

export function httpFailure(
  status: number,
  body: unknown,
  method: string,
  url: string,
  username: string,
): WordPressRequestError {
  const wpCode = typeof body === 'object' && body && 'code' in body ? String(body.code) : '';
  const wpMessage =
    typeof body === 'object' && body && 'message' in body ? stripTags(String(body.message)) : '';
  const where = `${method} ${requestPathOf(url)}`;
  const code = wpCode || `http_${status}`;
  // WordPress's messages mostly end in a full stop already; ours add one.
  const detail = wpMessage ? `: ${wpMessage.replace(/\.$/, '')}` : '';
  if (status === 401 && wpCode === 'application_passwords_disabled_for_user') {
    return new WordPressRequestError(
      `WordPress has application passwords switched off for "${username}" (${where}${detail}).`,
      {
        status,
        code,
        transient: false,
        hint: "Allow application passwords for the sync's account: a security plugin's setting that limits them to some roles or users, or code on the site filtering wp_is_application_passwords_available_for_user.",
      },
    );
  }
  if (status === 401) {
    return new WordPressRequestError(
      `WordPress did not accept the application password for "${username}" (${where}${detail}).`,
      {
        status,
        code,
        transient: false,
        hint: "Create an application password under Users → Profile → Application Passwords for that account and set WORDPRESS_APP_PASSWORD; application passwords need HTTPS. If the password is right, something on the site switches application passwords off for this account (a security plugin's per-role setting, the wp_is_application_passwords_available_for_user filter): allow them for it.",
      },
    );
  }
  if (status === 403) {
    return new WordPressRequestError(`WordPress refused ${where} for "${username}"${detail}.`, {
      status,
      code,
      transient: false,
      hint: 'The account needs the list_users, create_users, edit_users, promote_users and delete_users capabilities (an administrator has them).',
    });
  }
  const route = restRouteOf(url);
  if (wpCode === 'rest_no_route' && route.startsWith('/wp/v2/users')) {
    return new WordPressRequestError(
      `The WordPress REST API on ${new URL(url).origin} has no users endpoints for "${username}" (${method} ${route}${detail}); the sync reads and writes users only through them.`,
      {
        status,
        code,
        transient: false,
        hint: "Something on the site removes the /wp/v2/users routes (a security plugin's setting against user enumeration, or a rest_endpoints filter): keep them for accounts that may list users, such as the sync's administrator.",
      },
    );
  }
  const transient =
    status === 429 ||
    status === 502 ||
    status === 503 ||
    status === 504 ||
    (status >= 500 && !permanent500Codes.has(wpCode));
  return new WordPressRequestError(`WordPress answered ${status} ${code} to ${where}${detail}`, {
    status,
    code,
    transient,
    body,
  });
}

/**
 * The sign-in was refused and the site's REST index lists no application passwords:
 * WordPress offers none at all, so no password can be right.
 */
export function applicationPasswordsOffFailure(
  siteUrl: string,
  refused: WordPressRequestError,
): WordPressRequestError {
  return new WordPressRequestError(
    `Application passwords are switched off on ${siteUrl}, so WordPress signs no one in with one (it answered ${refused.status} ${refused.code}; its REST index lists no application passwords).`,
    {
      status: refused.status,
      code: 'application_passwords_disabled',
      transient: false,
      hint: "Turn application passwords back on: a security plugin's setting (\"Disable application passwords\"), or code filtering wp_is_application_passwords_available to false. WordPress also offers them only over HTTPS (or with WP_ENVIRONMENT_TYPE local): behind a proxy that ends TLS, set $_SERVER['HTTPS'] = 'on' in wp-config.php when X-Forwarded-Proto is https.",
    },
  );
}

/** The path of a request URL, with its REST route on plain permalinks; no query (it can carry emails). */
function requestPathOf(url: string): string {
  const parsed = new URL(url);
  const route = parsed.searchParams.get('rest_route');
  return route === null ? parsed.pathname : `${parsed.pathname}?rest_route=${route}`;
}

/** The REST route of a request URL, either way the site routes the REST API. */
export function restRouteOf(url: string): string {
  const parsed = new URL(url);
  return parsed.searchParams.get('rest_route') ?? parsed.pathname.replace(/^.*?\/wp-json(?=\/)/, '');
}

/**
 * A 3xx answer. The client never follows one: the repeated request would carry the
 * application password to wherever the answer points, another host or plain http://.
 * When the target keeps the route, the hint names the site address to configure.
 */
export function redirectFailure(
  status: number,
  location: string | undefined,
  method: string,
  url: string,
  siteUrl: string,
): WordPressRequestError {
  const requested = new URL(url);
  const where = `${method} ${requested.pathname}`;
  const details = { status, code: `http_${status}`, transient: false };
  if (!location) {
    return new WordPressRequestError(`WordPress answered ${where} with ${status} and no Location.`, {
      ...details,
      hint: 'Check wordpress.url: it must be the address the site is served at, and nothing in front of it (a proxy, a security plugin) may redirect the REST API.',
    });
  }
  const target = redirectTarget(location, url);
  const suffix = url.slice(siteUrl.length);
  const site = suffix && target.endsWith(suffix) ? target.slice(0, -suffix.length) : undefined;
  const downgrade = requested.protocol === 'https:' && target.startsWith('http:');
  const hint = downgrade
    ? 'The site redirects https:// to plain http://; have it served over https:// (Settings → General → WordPress Address and Site Address, or the web server or proxy in front of it).'
    : site
      ? `Set wordpress.url to ${site}, the address the site redirects to.`
      : "Set wordpress.url to the address the site redirects to; if it redirects the REST API to a login page, let the sync's account through (a security or single sign-on plugin).";
  return new WordPressRequestError(
    `WordPress answered ${where} with ${status} redirect to ${target}; redirects are not followed, so the application password goes only to wordpress.url.`,
    // Discovery reads where it points: plain permalinks send /wp-json/ to the site itself.
    { ...details, hint, body: { location: target } },
  );
}

/** The absolute redirect target, without any user:password in it. */
function redirectTarget(location: string, url: string): string {
  try {
    const target = new URL(location, url);
    target.username = '';
    target.password = '';
    return target.href;
  } catch {
    return JSON.stringify(location.slice(0, 200));
  }
}

function stripTags(text: string): string {
  return text.replace(/<[^>]*>/g, '').trim();
}
