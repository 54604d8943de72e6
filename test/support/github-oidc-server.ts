// GitHub's OIDC token service as a job sees it: ACTIONS_ID_TOKEN_REQUEST_URL answers a
// GET with the job's bearer token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) and an audience with
// {"value": "<JWT>"}, the JWT carrying GitHub's issuer, the workflow's subject and an exp.
// Tokens are unsigned: the fake Entra checks claims, not GitHub's signature.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const gitHubIssuer = 'https://token.actions.githubusercontent.com';

export interface GitHubOidcServer {
  /** What the runner gives a job with `permissions: id-token: write`. */
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** Every token handed out, in order. */
  issued: string[];
  /** The subject of the tokens from now on (the workflow's repo, ref or environment). */
  subject: string;
  /** How long tokens handed out from now on are valid. */
  lifetimeSeconds: number;
  close(): Promise<void>;
}

export async function startGitHubOidcServer(
  subject = 'repo:contoso/intranet-sync:environment:production',
): Promise<GitHubOidcServer> {
  const requestToken = `runtime-${randomUUID()}`;
  const state = { subject, lifetimeSeconds: 300 };
  const issued: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const audience = url.searchParams.get('audience');
    if (request.headers.authorization !== `Bearer ${requestToken}` || !audience) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Bad credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = [
      encode({ typ: 'JWT', alg: 'RS256', kid: 'fake-github-key' }),
      encode({
        jti: randomUUID(),
        sub: state.subject,
        aud: audience,
        iss: gitHubIssuer,
        repository: 'contoso/intranet-sync',
        nbf: now - 5,
        iat: now - 5,
        exp: now + state.lifetimeSeconds,
      }),
      Buffer.from(randomUUID()).toString('base64url'),
    ].join('.');
    issued.push(token);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: token }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/_apis/distributedtask/hubs/build/plans/1/jobs/1/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    issued,
    get subject() {
      return state.subject;
    },
    set subject(value) {
      state.subject = value;
    },
    get lifetimeSeconds() {
      return state.lifetimeSeconds;
    },
    set lifetimeSeconds(value) {
      state.lifetimeSeconds = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
