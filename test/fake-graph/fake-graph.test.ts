// The fake Graph's own behaviour, driven through the real @azure/identity credential and
// the real graph client (by way of src/graph), so the tests of the product can trust it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphApi } from '../../src/graph/graph-api.ts';
import { GraphRequestError } from '../../src/graph/graph-failures.ts';
import { ExpiredDeltaLinkError, readCollectionPages } from '../../src/graph/paging.ts';
import { type FakeGraph, FakeTenant, generateUsers, startFakeGraph } from '../fixtures/fake-graph/index.ts';
import { fakeGraphApi } from '../support/fake-graph-api.ts';

const tenantId = '11112222-3333-4444-8555-666677778888';
const clientId = '99990000-aaaa-4bbb-8ccc-ddddeeeeffff';
const secret = 'fake-graph-test-secret';
let graph: FakeGraph;
let api: GraphApi;
const users = generateUsers(450, 11);

beforeAll(async () => {
  const tenant = new FakeTenant(users);
  tenant.addGroup({
    id: 'g-marketing',
    displayName: 'Marketing',
    members: users.slice(0, 3).map((user) => user.id),
  });
  tenant.addGroup({
    id: 'g-authors',
    displayName: 'Authors',
    members: ['g-marketing', users[2]!.id, users[3]!.id],
  });
  tenant.setPhoto(users[0]!.id, Buffer.from('fake-png-bytes'));
  graph = await startFakeGraph({
    tenant,
    tenantId,
    apps: [
      {
        clientId,
        clientSecret: secret,
        permissions: ['User.Read.All', 'GroupMember.Read.All', 'ProfilePhoto.Read.All', 'Mail.Send'],
      },
    ],
  });
  api = fakeGraphApi(graph, { tenantId, clientId, secret });
});

afterAll(async () => {
  await graph.stop();
});

beforeEach(() => {
  graph.faults.clear();
});

async function collect<T>(start: string, eventualConsistency = false) {
  const items: T[] = [];
  let deltaLink: string | undefined;
  for await (const page of readCollectionPages<T>(api, start, { eventualConsistency })) {
    items.push(...page.items);
    deltaLink = page.deltaLink ?? deltaLink;
  }
  return { items, deltaLink };
}

describe('fake Graph', () => {
  it('lists direct members and the transitive members of nested groups once each', async () => {
    const direct = await collect<{ id: string; '@odata.type': string }>('/groups/g-authors/members');
    expect(direct.items.map((item) => item['@odata.type']).sort()).toEqual([
      '#microsoft.graph.group',
      '#microsoft.graph.user',
      '#microsoft.graph.user',
    ]);
    const transitive = await collect<{ id: string }>(
      '/groups/g-authors/transitiveMembers/microsoft.graph.user?$count=true&$select=id,mail&$top=2',
      true,
    );
    expect(transitive.items.map((item) => item.id).sort()).toEqual(
      users
        .slice(0, 4)
        .map((user) => user.id)
        .sort(),
    );
  });

  it('refuses the user cast of transitive members without ConsistencyLevel', async () => {
    await expect(collect('/groups/g-authors/transitiveMembers/microsoft.graph.user')).rejects.toThrow(
      /Request_UnsupportedQuery/,
    );
  });

  it('finds a group by display name with an OData filter', async () => {
    const found = await collect<{ id: string }>("/groups?$filter=displayName eq 'Marketing'");
    expect(found.items.map((group) => group.id)).toEqual(['g-marketing']);
  });

  it('answers delta with the full state first, then only changes and @removed entries', async () => {
    const initial = await collect<{ id: string }>('/users/delta?$select=id,mail,displayName');
    expect(initial.items).toHaveLength(450);
    expect(initial.deltaLink).toContain('$deltatoken=');
    graph.tenant.updateUser(users[5]!.id, { displayName: 'Renamed Person' });
    graph.tenant.removeUser(users[6]!.id);
    graph.tenant.removeUser(users[7]!.id, true);
    const changes = await collect<Record<string, unknown>>(initial.deltaLink!);
    expect(changes.items).toEqual([
      { id: users[5]!.id, mail: users[5]!.mail, displayName: 'Renamed Person' },
      { id: users[6]!.id, '@removed': { reason: 'changed' } },
      { id: users[7]!.id, '@removed': { reason: 'deleted' } },
    ]);
    const nothing = await collect(changes.deltaLink!);
    expect(nothing.items).toEqual([]);
  });

  it('expires delta links with syncStateNotFound, or 410 when asked', async () => {
    const initial = await collect('/users/delta?$select=id');
    graph.expireDeltaLinks();
    await expect(collect(initial.deltaLink!)).rejects.toBeInstanceOf(ExpiredDeltaLinkError);
    const again = await collect('/users/delta?$select=id');
    graph.expireDeltaLinks(410);
    const gone = await collect(again.deltaLink!).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(ExpiredDeltaLinkError);
  });

  it('serves photo metadata with a media etag, the bytes, and 404 for users without a photo', async () => {
    const metadata = await api.get<Record<string, unknown>>(`/users/${users[0]!.id}/photo`);
    expect(metadata['@odata.mediaEtag']).toMatch(/^W\/"/);
    const bytes = await api.getBinary(`/users/${users[0]!.id}/photos/240x240/$value`);
    expect(bytes?.toString()).toBe('fake-png-bytes');
    expect(await api.getBinary(`/users/${users[1]!.id}/photo/$value`)).toBeUndefined();
  });

  it('runs a $batch of up to 20 requests and throttles inside it on its own', async () => {
    graph.faults.once({ path: /\/users\/[^/]+$/, status: 429, retryAfter: 2 });
    const response = await api.post<{
      responses: Array<{ id: string; status: number; headers: Record<string, string> }>;
    }>(
      '/$batch',
      {
        requests: users
          .slice(0, 3)
          .map((user, index) => ({ id: String(index), method: 'GET', url: `/users/${user.id}?$select=id` })),
      },
      { idempotent: true },
    );
    expect(response.responses.map((item) => item.status)).toEqual([429, 200, 200]);
    expect(response.responses[0]?.headers['Retry-After']).toBe('2');
    const tooMany = await api
      .post(
        '/$batch',
        {
          requests: Array.from({ length: 21 }, (_, id) => ({
            id: String(id),
            method: 'GET',
            url: '/users?$top=1',
          })),
        },
        { idempotent: true },
      )
      .catch((error: unknown) => error);
    expect(tooMany).toBeInstanceOf(GraphRequestError);
  });

  it('records mail sent through sendMail', async () => {
    await api.post(
      `/users/${users[0]!.userPrincipalName}/sendMail`,
      {
        message: { subject: 'hello', toRecipients: [{ emailAddress: { address: 'admin@contoso.com' } }] },
      },
      { idempotent: false },
    );
    expect(graph.sentMail.at(-1)).toMatchObject({
      from: users[0]!.userPrincipalName,
      message: { subject: 'hello' },
    });
  });

  it('answers a 503 that the graph client retries, and a reset that the product retries', async () => {
    graph.faults.once({ path: /\/v1\.0\/users$/, status: 503 });
    graph.faults.once({ path: /\/v1\.0\/users$/, reset: true });
    const page = await api.get<{ value: unknown[] }>('/users?$top=5');
    expect(page.value).toHaveLength(5);
  });

  it('throttles a share of requests at random when asked, reproducibly by seed', async () => {
    graph.faults.seed(7);
    graph.faults.rate429 = 0.5;
    graph.faults.retryAfterRange = [0, 0];
    const before = graph.requests.length;
    const all = await collect('/users?$top=100&$select=id');
    expect(all.items).toHaveLength(graph.tenant.size);
    const statuses = graph.requests.slice(before).map((request) => request.status);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
  });
});
