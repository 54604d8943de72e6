// The fake Graph answers directory fields in Graph's documented shapes: the expanded
// manager as { @odata.type, id } (absent without one), onPremisesExtensionAttributes with
// all fifteen keys, directory extensions left out when unset, and $expand refused in
// advanced queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphApi } from '../../src/graph/graph-api.ts';
import { GraphRequestError } from '../../src/graph/graph-failures.ts';
import { type FakeGraph, FakeTenant, generateUsers, startFakeGraph } from '../fixtures/fake-graph/index.ts';
import { fakeGraphApi } from '../support/fake-graph-api.ts';

const tenantId = '21112222-3333-4444-8555-666677778888';
const clientId = '89990000-aaaa-4bbb-8ccc-ddddeeeeffff';
const secret = 'fake-graph-directory-secret';
const costCenter = 'extension_b7d8e648520f41d3b9c0fdeb91768a0a_costCenter';
const [boss, report, ...others] = generateUsers(150, 12);
let graph: FakeGraph;
let api: GraphApi;

beforeAll(async () => {
  const tenant = new FakeTenant([
    { ...boss!, [costCenter]: 'CC-7' },
    { ...report!, managerId: boss!.id, onPremisesExtensionAttributes: { extensionAttribute2: 'E2' } },
    ...others,
  ]);
  graph = await startFakeGraph({
    tenant,
    tenantId,
    apps: [{ clientId, clientSecret: secret, permissions: ['User.Read.All'] }],
  });
  api = fakeGraphApi(graph, { tenantId, clientId, secret });
});

afterAll(async () => {
  await graph.stop();
});

type Listing = { value: Array<Record<string, unknown>>; '@odata.nextLink'?: string };

describe('directory fields in the fake Graph', () => {
  it('expands the manager, fills onPremisesExtensionAttributes and leaves out unset extensions', async () => {
    const page = await api.get<Listing>(
      `/users?$select=id,onPremisesExtensionAttributes,${costCenter}&$expand=manager($select=id)&$top=999`,
    );
    // Graph sends at most 100 objects a page when it expands a relationship.
    expect(page.value).toHaveLength(100);
    expect(page['@odata.nextLink']).toBeDefined();
    const [first, second] = page.value;
    expect(first).not.toHaveProperty('manager');
    expect(first![costCenter]).toBe('CC-7');
    expect(second!.manager).toEqual({ '@odata.type': '#microsoft.graph.user', id: boss!.id });
    expect(second).not.toHaveProperty(costCenter);
    const onPremises = second!.onPremisesExtensionAttributes as Record<string, unknown>;
    expect(Object.keys(onPremises)).toHaveLength(15);
    expect(onPremises).toMatchObject({
      extensionAttribute1: null,
      extensionAttribute2: 'E2',
      extensionAttribute15: null,
    });
  });

  it('refuses $expand in an advanced query', async () => {
    const refused = await api
      .getCollectionPage('/users?$select=id&$expand=manager($select=id)&$count=true', {
        ConsistencyLevel: 'eventual',
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GraphRequestError);
    expect((refused as GraphRequestError).message).toMatch(/advanced queries/);
  });
});
