// GitHub's OIDC token for Entra workload identity federation. It lives only minutes,
// so it is fetched anew for every Entra token request, never once at start.
import { request } from 'undici';
import { ActionableError } from '../errors.ts';
import { announceSecret } from '../log/secrets.ts';

export interface GitHubOidcEnvironment {
  ACTIONS_ID_TOKEN_REQUEST_URL?: string | undefined;
  ACTIONS_ID_TOKEN_REQUEST_TOKEN?: string | undefined;
}

export function gitHubOidcAvailable(env: GitHubOidcEnvironment): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

export async function fetchGitHubIdToken(env: GitHubOidcEnvironment, audience: string): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    // MSAL keeps only the message of a callback's error, so the fix is in the message too.
    throw new ActionableError(
      'GitHub did not offer an OIDC token to this job (it needs `permissions: id-token: write`).',
      {
        hint: 'Add `permissions: id-token: write` to the workflow job, or set AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH instead.',
      },
    );
  }
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);
  const response = await request(url, {
    headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json; api-version=2.0' },
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    throw new ActionableError(`GitHub refused the OIDC token request (HTTP ${response.statusCode}).`, {
      hint: 'Check that the job has `permissions: id-token: write` and runs in a repository allowed to request tokens.',
    });
  }
  const value = (JSON.parse(text) as { value?: unknown }).value;
  if (typeof value !== 'string' || value === '') {
    throw new ActionableError('GitHub answered the OIDC token request without a token.');
  }
  announceSecret(value);
  return value;
}
