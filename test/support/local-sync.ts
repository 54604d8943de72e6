// What the tests' sync harness, scripts/demo.ts and bench/ share to run the product's CLI: a fake
// Entra tenant behind the fake Graph, a jobs.yaml joining it to a test-bed WordPress
// site, the environment the CLI child needs, and the result rows it writes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  type FakeGraph,
  type FakeGraphOptions,
  type FakeTenant,
  type FederatedCredential,
  startFakeGraph,
} from '../fixtures/fake-graph/index.ts';
import type { WordPressSite } from './wordpress/index.ts';

export interface LocalApp {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** How the fake serves the app: advanced queries, its permissions, its federated credentials. */
export type LocalGraphOptions = Partial<Pick<FakeGraphOptions, 'advancedQueries'>> & {
  permissions?: string[];
  federatedCredentials?: FederatedCredential[];
};

/** The fake Graph serving `tenant` to one app, by default with the permissions the sync asks for. */
export function startLocalGraph(
  tenant: FakeTenant,
  app: LocalApp,
  fake: LocalGraphOptions = {},
): Promise<FakeGraph> {
  return startFakeGraph({
    tenant,
    tenantId: app.tenantId,
    ...(fake.advancedQueries === undefined ? {} : { advancedQueries: fake.advancedQueries }),
    apps: [
      {
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        ...(fake.federatedCredentials ? { federatedCredentials: fake.federatedCredentials } : {}),
        permissions: fake.permissions ?? ['User.Read.All', 'GroupMember.Read.All'],
      },
    ],
  });
}

/**
 * Secrets for the CLI, and the fake Graph's CA: Node reads NODE_EXTRA_CA_CERTS only at
 * start, so only a child process started with this environment trusts the fake.
 */
export function localSyncEnv(graph: FakeGraph, site: WordPressSite, app: LocalApp): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AZURE_CLIENT_SECRET: app.clientSecret,
    WORDPRESS_APP_PASSWORD: site.appPassword,
    NODE_EXTRA_CA_CERTS: graph.caBundleFile,
  };
}

export interface LocalConfig {
  graph: FakeGraph;
  app: LocalApp;
  site: WordPressSite;
  /** Where the CLI sends WordPress requests (default: the site itself). */
  wordpressUrl?: string;
  stateDirectory: string;
  jobs: Array<Record<string, unknown>>;
  /** More top-level settings (mail, a state backend), replacing the defaults above. */
  extra?: Record<string, unknown>;
}

/** Writes a jobs.yaml for the CLI. */
export async function writeLocalConfig(path: string, config: LocalConfig): Promise<void> {
  const { graph, app, site } = config;
  await writeFile(
    path,
    stringify({
      graph: {
        tenantId: app.tenantId,
        clientId: app.clientId,
        endpoint: graph.graphEndpoint,
        authorityHost: graph.authorityHost,
      },
      wordpress: { url: config.wordpressUrl ?? site.url, username: site.adminUser },
      state: { directory: config.stateDirectory },
      jobs: config.jobs,
      ...config.extra,
    }),
  );
}

/** The rows of a run's results.jsonl (none when the run wrote no results file). */
export async function readResultRows(outDirectory: string): Promise<Array<Record<string, unknown>>> {
  let text: string;
  try {
    text = await readFile(join(outDirectory, 'results.jsonl'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
