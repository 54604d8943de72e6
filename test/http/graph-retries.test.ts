// The retry policy as GraphApi applies it, against the fake Graph: attempts are counted
// from the fake's request log, faults come from its hooks, and no test waits (Retry-After
// 0, no backoff).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphApi } from '../../src/graph/graph-api.ts';
import { GraphRequestError } from '../../src/graph/graph-failures.ts';
import { defaultRetryPolicy } from '../../src/http/retry-policy.ts';
import type { Logger } from '../../src/log/logger.ts';
import { type FakeGraph, FakeTenant, generateUsers, startFakeGraph } from '../fixtures/fake-graph/index.ts';
import { fakeGraphApi } from '../support/fake-graph-api.ts';

const tenantId = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const clientId = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const secret = 'graph-retries-test-secret';
const users = generateUsers(5, 71);
let graph: FakeGraph;
let api: GraphApi;
let debug: string[];

beforeAll(async () => {
  const tenant = new FakeTenant(users);
  tenant.setPhoto(users[0]!.id, Buffer.from('fake-photo-bytes'));
  graph = await startFakeGraph({
    tenant,
    tenantId,
    apps: [
      {
        clientId,
        clientSecret: secret,
        permissions: ['User.Read.All', 'ProfilePhoto.Read.All', 'Mail.Send'],
      },
    ],
  });
});

afterAll(async () => {
  await graph.stop();
});

beforeEach(() => {
  graph.faults.clear();
  graph.requests.length = 0;
  debug = [];
  const logger: Logger = { debug: (line) => debug.push(line), info() {}, warn() {}, error() {} };
  api = fakeGraphApi(graph, { tenantId, clientId, secret }, { logger });
});

/** Statuses of the requests to `path` (-1: connection reset), in order. */
const statusesOf = (path: string) =>
  graph.requests.filter((request) => request.path === path).map((request) => request.status);

const photoPath = () => `/users/${users[0]!.id}/photos/240x240/$value`;
const mailPath = () => `/users/${users[0]!.userPrincipalName}/sendMail`;
const mail = {
  message: { subject: 'report', toRecipients: [{ emailAddress: { address: 'a@contoso.com' } }] },
};

describe('GraphApi retries', () => {
  it('attempts a GET that Graph throttles forever no more than the policy allows, then reports the 429', async () => {
    graph.faults.rate429 = 1;
    graph.faults.retryAfterRange = [0, 0];
    const error = await api.get('/users?$top=1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GraphRequestError);
    expect((error as GraphRequestError).status).toBe(429);
    expect(statusesOf('/v1.0/users')).toEqual(Array(defaultRetryPolicy.maxAttempts).fill(429));
    expect(api.requestCount).toBe(defaultRetryPolicy.maxAttempts);
    const retries = debug.filter((line) => line.includes('; retry '));
    expect(retries).toEqual(
      [1, 2, 3, 4].map((n) => `Graph GET /users answered 429; retry ${n} of 4 in 0.0 s (Retry-After)`),
    );
    expect(debug).toContain('Graph GET /users answered 429; no retry left after 5 attempts');
  });

  it('retries a photo (getBinary) after one 503', async () => {
    graph.faults.once({ path: /\/photos\/240x240\/\$value$/, status: 503 });
    const bytes = await api.getBinary(photoPath());
    expect(bytes?.toString()).toBe('fake-photo-bytes');
    expect(statusesOf(`/v1.0${photoPath()}`)).toEqual([503, 200]);
  });

  it('does not retry a 404 for a user without a photo', async () => {
    const missing = `/users/${users[1]!.id}/photos/240x240/$value`;
    expect(await api.getBinary(missing)).toBeUndefined();
    expect(statusesOf(`/v1.0${missing}`)).toEqual([404]);
  });

  it('retries a $batch of GETs after one 503 on the batch itself', async () => {
    graph.faults.once({ path: /^\/v1\.0\/\$batch$/, status: 503 });
    const answer = await api.post<{ responses: Array<{ id: string; status: number }> }>(
      '/$batch',
      {
        requests: users.slice(0, 2).map((user, index) => ({
          id: String(index),
          method: 'GET',
          url: `/users/${user.id}/photo`,
        })),
      },
      { idempotent: true },
    );
    expect(answer.responses.map((response) => response.status).sort()).toEqual([200, 404]);
    expect(statusesOf('/v1.0/$batch')).toEqual([503, 200]);
  });

  it('retries a $batch of GETs after a connection reset', async () => {
    graph.faults.once({ path: /^\/v1\.0\/\$batch$/, reset: true });
    await api.post(
      '/$batch',
      {
        requests: [{ id: '0', method: 'GET', url: `/users/${users[0]!.id}/photo` }],
      },
      { idempotent: true },
    );
    expect(statusesOf('/v1.0/$batch')).toEqual([-1, 200]);
  });

  it('sends mail once when a 503 without Retry-After or a reset leaves open whether Graph took it', async () => {
    const before = graph.sentMail.length;
    graph.faults.once({ path: /\/sendMail$/, status: 503 });
    await expect(api.post(mailPath(), mail, { idempotent: false })).rejects.toBeInstanceOf(GraphRequestError);
    graph.faults.once({ path: /\/sendMail$/, reset: true });
    await expect(api.post(mailPath(), mail, { idempotent: false })).rejects.toThrow(
      /Could not reach Microsoft Graph \(POST /,
    );
    expect(statusesOf(`/v1.0${mailPath()}`)).toEqual([503, -1]);
    expect(graph.sentMail.length).toBe(before);
  });

  it('sends mail again after a 429 with Retry-After, which Graph did not process', async () => {
    const before = graph.sentMail.length;
    graph.faults.once({ path: /\/sendMail$/, status: 429, retryAfter: 0 });
    await api.post(mailPath(), mail, { idempotent: false });
    expect(statusesOf(`/v1.0${mailPath()}`)).toEqual([429, 202]);
    expect(graph.sentMail.length).toBe(before + 1);
  });

  it('lets the caller say that a POST may be sent twice', async () => {
    graph.faults.once({ path: /\/sendMail$/, status: 503 });
    await api.post(mailPath(), mail, { idempotent: true });
    expect(statusesOf(`/v1.0${mailPath()}`)).toEqual([503, 202]);
  });
});
