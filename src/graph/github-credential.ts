// Signs in to Entra with GitHub's OIDC token as the client assertion. MSAL asks for the
// assertion on every token request, even one it answers from its cache (and twice for one
// it sends), so this keeps the access token itself, goes to Entra only when it needs a
// new one, and fetches at most one GitHub token for each of those requests.
import {
  type AccessToken,
  ClientAssertionCredential,
  type GetTokenOptions,
  type TokenCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import type { Env } from '../config/env.ts';
import type { Logger } from '../log/logger.ts';
import { EntraSignInError } from './entra-errors.ts';
import {
  type GitHubAssertion,
  type GitHubAssertions,
  type GitHubTokenClaims,
  gitHubAssertions,
} from './github-oidc.ts';

/** Renewed this long before it expires, as MSAL does, so no request carries a token about to lapse. */
const renewBeforeExpiryMs = 5 * 60_000;

export interface GitHubCredentialTarget {
  tenantId: string;
  clientId: string;
  /** The audience the federated credential expects (api://AzureADTokenExchange in the global cloud). */
  audience: string;
}

export class GitHubOidcCredential implements TokenCredential {
  readonly #inner: ClientAssertionCredential;
  readonly #clientId: string;
  readonly #tokens = new Map<string, AccessToken>();
  readonly #pending = new Map<string, Promise<AccessToken | null>>();
  readonly #assertion: () => Promise<GitHubAssertion>;
  /** The assertion of the Entra token request under way: MSAL reads it more than once. */
  #current: GitHubAssertion | undefined;

  constructor(
    target: GitHubCredentialTarget,
    env: Env,
    options: TokenCredentialOptions & { disableInstanceDiscovery?: boolean },
    logger?: Logger,
    assertions: GitHubAssertions = gitHubAssertions,
  ) {
    this.#clientId = target.clientId;
    this.#assertion = () => assertions.get(env, target.audience, logger);
    this.#inner = new ClientAssertionCredential(
      target.tenantId,
      target.clientId,
      async () => (this.#current ?? (await this.#assertion())).value,
      options,
    );
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const key = [scopes].flat().join(' ');
    const kept = this.#tokens.get(key);
    if (kept && kept.expiresOnTimestamp - Date.now() > renewBeforeExpiryMs) return kept;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#request(scopes, options, key).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #request(scopes: string | string[], options: GetTokenOptions | undefined, key: string) {
    // Fetched here, not in MSAL's callback, so a failure keeps its hint (MSAL keeps only messages).
    const assertion = await this.#assertion();
    this.#current = assertion;
    try {
      const token = await this.#inner.getToken(scopes, options);
      if (token) this.#tokens.set(key, token);
      return token;
    } catch (error) {
      throw explainFederationMismatch(error, this.#clientId, assertion.claims);
    } finally {
      this.#current = undefined;
    }
  }
}

/**
 * AADSTS700211/700212/700213 (and the older 70021): no federated credential of the app
 * matches the token's issuer, audience or subject. The subject depends on the workflow's
 * trigger and environment, so the message shows the token's own claims to copy into Entra.
 */
export function explainFederationMismatch(
  error: unknown,
  clientId: string,
  claims: GitHubTokenClaims | undefined,
): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const code = /AADSTS(70021[123]?)\b/.exec(message)?.[1];
  if (!code || !claims) return error;
  const audience = [claims.aud ?? []].flat().join(', ') || '(none)';
  return new EntraSignInError(
    `Entra found no federated credential of app ${clientId} matching this workflow's GitHub token (AADSTS${code}). The token has subject "${claims.sub ?? ''}", issuer "${claims.iss ?? ''}" and audience "${audience}".`,
    {
      hint: `In Entra, open App registrations → the app → Certificates & secrets → Federated credentials and add one with exactly that issuer, subject and audience. The subject changes with the trigger: a job with \`environment:\` sends repo:ORG/REPO:environment:NAME, otherwise repo:ORG/REPO:ref:refs/heads/BRANCH.`,
      cause: error,
    },
  );
}
