// The product's own GraphApi, signed in with a client secret against a fake Graph: what
// tests of Graph reading and retries talk to instead of a stub.
import { resolveCloudEndpoints } from '../../src/graph/clouds.ts';
import { selectCredential } from '../../src/graph/credentials.ts';
import { GraphApi, type GraphApiOptions } from '../../src/graph/graph-api.ts';
import type { FakeGraph } from '../fixtures/fake-graph/index.ts';

export interface FakeGraphApp {
  tenantId: string;
  clientId: string;
  secret: string;
}

/** A GraphApi for `app` at `graph`; retries wait nothing unless `options` says otherwise. */
export function fakeGraphApi(graph: FakeGraph, app: FakeGraphApp, options: GraphApiOptions = {}): GraphApi {
  const endpoints = resolveCloudEndpoints({
    cloud: 'global',
    endpoint: graph.graphEndpoint,
    authorityHost: graph.authorityHost,
  });
  const { credential } = selectCredential(
    { tenantId: app.tenantId, clientId: app.clientId, endpoints, customAuthority: true },
    { AZURE_CLIENT_SECRET: app.secret },
  );
  return new GraphApi(credential, endpoints, { retryDelaySeconds: 0, ...options });
}
