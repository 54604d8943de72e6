import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActionableError } from '../../src/errors.ts';
import { type CloudEndpoints, resolveCloudEndpoints } from '../../src/graph/clouds.ts';
import { selectCredential } from '../../src/graph/credentials.ts';
import { GraphApi } from '../../src/graph/graph-api.ts';
import { ExpiredPageTokenError, readCollectionPages } from '../../src/graph/paging.ts';
import { needsEventualConsistency, usersRequestPath } from '../../src/graph/users-query.ts';
import { type FakeGraph, FakeTenant, generateUsers, startFakeGraph } from '../fixtures/fake-graph/index.ts';

const tenantId = '0b5a3c1e-7d2f-4e8a-9c6b-1f2e3d4c5b6a';
const clientId = '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const secret = 'fake-secret-value-123';
let graph: FakeGraph;
let endpoints: CloudEndpoints;

beforeAll(async () => {
  graph = await startFakeGraph({
    tenant: new FakeTenant(generateUsers(250, 3, { guestEvery: 10 })),
    tenantId,
    apps: [
      { clientId, clientSecret: secret, permissions: ['User.Read.All'] },
      { clientId: 'a1a1a1a1-0000-4000-8000-000000000001', clientSecret: secret, permissions: [] },
      {
        clientId: 'a1a1a1a1-0000-4000-8000-000000000002',
        federatedAssertions: /^github-oidc-token-\d+$/,
        permissions: ['User.Read.All'],
      },
    ],
  });
  endpoints = resolveCloudEndpoints({
    cloud: 'global',
    endpoint: graph.graphEndpoint,
    authorityHost: graph.authorityHost,
  });
});

afterAll(async () => {
  await graph.stop();
});

afterEach(() => {
  graph.faults.clear();
  graph.requests.length = 0;
});

function api(env: Record<string, string> = { AZURE_CLIENT_SECRET: secret }, id = clientId): GraphApi {
  const { credential } = selectCredential({ tenantId, clientId: id, endpoints, customAuthority: true }, env);
  return new GraphApi(credential, endpoints, { retryDelaySeconds: 0 });
}

async function readAll(graphApi: GraphApi, path: string, eventualConsistency = false) {
  const pages = [];
  for await (const page of readCollectionPages<Record<string, unknown>>(graphApi, path, {
    eventualConsistency,
  })) {
    pages.push(page);
  }
  return pages;
}

const userRequests = () => graph.requests.filter((request) => request.path === '/v1.0/users');

describe('reading users from Graph', () => {
  it('pages through every user with only the selected attributes, following nextLink until it is absent', async () => {
    const path = usersRequestPath({ select: ['userPrincipalName', 'mail'], pageSize: 100, count: false });
    const pages = await readAll(api(), path);
    expect(pages.map((page) => page.items.length)).toEqual([100, 100, 50]);
    expect(pages.at(-1)?.nextLink).toBeUndefined();
    expect(new Set(pages.flatMap((page) => page.items.map((user) => user.id))).size).toBe(250);
    expect(Object.keys(pages[0]!.items[0]!).sort()).toEqual(['id', 'mail', 'userPrincipalName']);
    expect(userRequests().map((request) => request.query.$top)).toEqual(['100', '100', '100']);
  });

  it('sends ConsistencyLevel on every page of an advanced query and reads @odata.count from the first', async () => {
    const query = { filter: "endsWith(mail,'@contoso.com')", select: ['mail'], pageSize: 100, count: true };
    expect(needsEventualConsistency(query)).toBe(true);
    const pages = await readAll(api(), usersRequestPath(query), true);
    expect(pages[0]?.count).toBe(225);
    expect(pages.slice(1).every((page) => page.count === undefined)).toBe(true);
    expect(userRequests()).toHaveLength(3);
    expect(userRequests().every((request) => request.consistencyLevel === 'eventual')).toBe(true);
  });

  it('is refused by Graph when an advanced query is sent without ConsistencyLevel', async () => {
    const path = usersRequestPath({
      filter: "endsWith(mail,'@contoso.com')",
      select: ['mail'],
      pageSize: 100,
      count: true,
    });
    await expect(readAll(api(), path, false)).rejects.toThrow(/Request_UnsupportedQuery/);
  });

  it('waits as long as Retry-After says on a 429 and then continues', async () => {
    graph.faults.once({ path: /\/v1\.0\/users/, status: 429, retryAfter: 1 });
    const started = Date.now();
    const pages = await readAll(api(), usersRequestPath({ select: ['mail'], pageSize: 999, count: false }));
    expect(pages[0]?.items).toHaveLength(250);
    expect(userRequests().map((request) => request.status)).toEqual([429, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('retries after a connection reset, which the graph client itself does not', async () => {
    graph.faults.once({ path: /\/v1\.0\/users/, reset: true });
    const pages = await readAll(api(), usersRequestPath({ select: ['mail'], pageSize: 999, count: false }));
    expect(pages[0]?.items).toHaveLength(250);
    expect(userRequests().map((request) => request.status)).toEqual([-1, 200]);
  });

  it('stops instead of looping when Graph repeats a nextLink', async () => {
    graph.faults.repeatNextLink = true;
    const error = await readAll(
      api(),
      usersRequestPath({ select: ['mail'], pageSize: 100, count: false }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ActionableError);
    expect((error as Error).message).toContain('same next-page link twice');
    expect(userRequests().length).toBeLessThanOrEqual(3);
  });

  it('tells the caller to restart the listing when a page token has expired', async () => {
    const graphApi = api();
    const pages = readCollectionPages(
      graphApi,
      usersRequestPath({ select: ['mail'], pageSize: 100, count: false }),
      {
        eventualConsistency: false,
      },
    );
    await pages.next();
    graph.expireSkipTokens();
    await expect(pages.next()).rejects.toBeInstanceOf(ExpiredPageTokenError);
  });

  it('explains a wrong client secret with the Entra error code and what to do', async () => {
    const error = await readAll(api({ AZURE_CLIENT_SECRET: 'wrong' }), '/users?$top=1').catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ActionableError);
    expect((error as ActionableError).message).toContain('AADSTS7000215');
    expect((error as ActionableError).hint).toContain('AZURE_CLIENT_SECRET');
    expect(String((error as Error).message)).not.toContain('wrong');
  });

  it('names the missing permission when the app may not read users', async () => {
    const error = await readAll(
      api({ AZURE_CLIENT_SECRET: secret }, 'a1a1a1a1-0000-4000-8000-000000000001'),
      '/users?$top=1',
    ).catch((caught: unknown) => caught);
    expect((error as ActionableError).hint).toContain('User.Read.All');
  });
});

describe('GitHub OIDC federation', () => {
  let server: Server;
  let issued = 0;
  const audiences: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (request.headers.authorization !== 'Bearer runtime-token') {
        response.writeHead(401).end();
        return;
      }
      audiences.push(url.searchParams.get('audience') ?? '');
      issued++;
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ value: `github-oidc-token-${issued}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('exchanges a fresh GitHub ID token for an Entra token, with the Entra audience', async () => {
    const port = (server.address() as AddressInfo).port;
    const env = {
      GITHUB_ACTIONS: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token',
    };
    const { kind } = selectCredential({ tenantId, clientId, endpoints, customAuthority: true }, env);
    expect(kind).toBe('github-oidc');
    const pages = await readAll(
      api(env, 'a1a1a1a1-0000-4000-8000-000000000002'),
      '/users?$top=5&$select=mail',
    );
    expect(pages[0]?.items).toHaveLength(5);
    // These tokens carry no exp claim, so none is ever reused for a later Entra token request.
    expect(issued).toBeGreaterThanOrEqual(1);
    expect(new Set(audiences)).toEqual(new Set(['api://AzureADTokenExchange']));
  });

  it('says to grant id-token: write when GitHub offers no token', async () => {
    const error = await readAll(api({ GITHUB_ACTIONS: 'true' }), '/users?$top=1').catch(
      (caught: unknown) => caught,
    );
    expect((error as ActionableError).message + String((error as ActionableError).hint)).toContain(
      'id-token: write',
    );
  });
});
