// GitHub's OIDC token for Entra workload identity federation. It lives only minutes, so it
// is never fetched once at start; but each fetch is a request to GitHub and a new secret
// to mask, so one token is reused for every Entra token request until shortly before it
// expires (its `exp` claim says when).
import { request } from 'undici';
import type { Env } from '../config/env.ts';
import { readVariable } from '../config/environment.ts';
import type { Logger } from '../log/logger.ts';
import { announceSecret } from '../log/secrets.ts';
import { EntraSignInError } from './entra-errors.ts';

/** What Entra compares with the app's federated credentials. Not secret: azure/login prints them too. */
export interface GitHubTokenClaims {
  sub?: string | undefined;
  iss?: string | undefined;
  aud?: string | string[] | undefined;
  /** Seconds since the epoch. */
  exp?: number | undefined;
}

export interface GitHubAssertion {
  value: string;
  claims: GitHubTokenClaims;
  /** Milliseconds since the epoch; 0 when the token does not say (it is then never reused). */
  expiresAt: number;
}

/** A token is not sent to Entra in its last minute: it must still be valid when Entra reads it. */
export const assertionReuseMarginMs = 60_000;

/** Where and with what GitHub issues this job's OIDC token; undefined without `id-token: write`. */
export function gitHubOidcRequest(env: Env): { url: string; token: string } | undefined {
  const url = readVariable(env, 'ACTIONS_ID_TOKEN_REQUEST_URL');
  const token = readVariable(env, 'ACTIONS_ID_TOKEN_REQUEST_TOKEN');
  return url && token ? { url, token } : undefined;
}

export function gitHubOidcAvailable(env: Env): boolean {
  return gitHubOidcRequest(env) !== undefined;
}

/** The token GitHub issues for this job and audience, reused across jobs and credentials of the run. */
export class GitHubAssertions {
  readonly #tokens = new Map<string, Promise<GitHubAssertion>>();

  async get(env: Env, audience: string, logger?: Logger): Promise<GitHubAssertion> {
    const key = `${readVariable(env, 'ACTIONS_ID_TOKEN_REQUEST_URL')}\n${audience}`;
    const kept = await this.#tokens.get(key)?.catch(() => undefined);
    if (kept && kept.expiresAt - Date.now() > assertionReuseMarginMs) return kept;
    const fetched = fetchGitHubIdToken(env, audience).then((value) => {
      const assertion = toAssertion(value);
      logger?.debug(
        `GitHub OIDC token for ${audience}: subject ${assertion.claims.sub ?? '(none)'}, ${
          assertion.expiresAt ? `expires ${new Date(assertion.expiresAt).toISOString()}` : 'no expiry claim'
        }`,
      );
      return assertion;
    });
    this.#tokens.set(key, fetched);
    fetched.catch(() => this.#tokens.delete(key));
    return fetched;
  }
}

/** One per process: every job of a run signs in with the same GitHub token while it is valid. */
export const gitHubAssertions = new GitHubAssertions();

export async function fetchGitHubIdToken(env: Env, audience: string): Promise<string> {
  const offered = gitHubOidcRequest(env);
  if (!offered) {
    // MSAL keeps only the message of a callback's error, so the fix is in the message too.
    throw new EntraSignInError(
      'GitHub did not offer an OIDC token to this job (it needs `permissions: id-token: write`).',
      {
        hint: 'Add `permissions: id-token: write` to the workflow job, or set AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH instead.',
      },
    );
  }
  const url = new URL(offered.url);
  url.searchParams.set('audience', audience);
  const response = await request(url, {
    headers: { authorization: `Bearer ${offered.token}`, accept: 'application/json; api-version=2.0' },
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    throw new EntraSignInError(`GitHub refused the OIDC token request (HTTP ${response.statusCode}).`, {
      hint: 'Check that the job has `permissions: id-token: write` and runs in a repository allowed to request tokens.',
    });
  }
  const value = (JSON.parse(text) as { value?: unknown }).value;
  if (typeof value !== 'string' || value === '') {
    throw new EntraSignInError('GitHub answered the OIDC token request without a token.');
  }
  announceSecret(value);
  return value;
}

/** The claims of a JWT, read without checking its signature (Entra does that). */
export function readTokenClaims(token: string): GitHubTokenClaims {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return {
      sub: typeof claims.sub === 'string' ? claims.sub : undefined,
      iss: typeof claims.iss === 'string' ? claims.iss : undefined,
      aud:
        typeof claims.aud === 'string' || Array.isArray(claims.aud)
          ? (claims.aud as string | string[])
          : undefined,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    };
  } catch {
    return {};
  }
}

function toAssertion(value: string): GitHubAssertion {
  const claims = readTokenClaims(value);
  return { value, claims, expiresAt: claims.exp === undefined ? 0 : claims.exp * 1000 };
}
