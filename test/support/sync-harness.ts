// A fake Entra tenant, this worker's real WordPress site and a jobs.yaml joining them,
// for tests that run the product's CLI end to end.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WordPressUser } from '../../src/model/wordpress-user.ts';
import { type FakeGraph, FakeTenant, type FakeUser } from '../fixtures/fake-graph/index.ts';
import { type CliResult, type RunningCli, runCliProcess, startCli } from './cli-process.ts';
import { type LocalGraphOptions, readResultRows, startLocalGraph, writeLocalConfig } from './local-sync.ts';
import { adminHeaders, useWordPressSite, type WordPressSite } from './wordpress-site.ts';

export const testTenantId = '3c2b1a09-8f7e-4d6c-9b5a-0e1f2d3c4b5a';
export const testClientId = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
export const testClientSecret = 'test-client-secret-Zq8~';

export interface SyncHarness {
  graph: FakeGraph;
  site: WordPressSite;
  directory: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  writeConfig(job?: Record<string, unknown>, extra?: Record<string, unknown>): Promise<string>;
  run(args: string[]): Promise<CliResult>;
  /** `run` with the config into a fresh output directory, with its rows and summary.md. */
  runJobs(extra?: string[]): Promise<CliResult & { rows: Array<Record<string, unknown>>; summary: string }>;
  start(args: string[]): RunningCli;
  wordpressUsers(): Promise<WordPressRestUser[]>;
  readResults(outDir: string): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

/** Users as the REST API returns them with context=edit. */
export type WordPressRestUser = WordPressUser;

export async function startSyncHarness(
  users: FakeUser[],
  fake: LocalGraphOptions = {},
): Promise<SyncHarness> {
  const site = await useWordPressSite();
  const app = { tenantId: testTenantId, clientId: testClientId, clientSecret: testClientSecret };
  const graph = await startLocalGraph(new FakeTenant(users), app, fake);
  const directory = await mkdtemp(join(tmpdir(), 'entra-wp-sync-test-'));
  const configPath = join(directory, 'jobs.yaml');
  const env: NodeJS.ProcessEnv = {
    AZURE_CLIENT_SECRET: testClientSecret,
    WORDPRESS_APP_PASSWORD: site.appPassword,
    NODE_EXTRA_CA_CERTS: graph.caBundleFile,
    GITHUB_ACTIONS: '',
    // Tests follow the run page by page (the default is a line every 5 s at most).
    ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS: '0',
    ...(process.env.ENTRA_WP_SYNC_FULL_INDEX_LIMIT
      ? { ENTRA_WP_SYNC_FULL_INDEX_LIMIT: process.env.ENTRA_WP_SYNC_FULL_INDEX_LIMIT }
      : {}),
    CI: '',
  };
  let runs = 0;
  const harness: SyncHarness = {
    graph,
    site,
    directory,
    configPath,
    env,
    async writeConfig(job = {}, extra = {}) {
      await writeLocalConfig(configPath, {
        graph,
        app,
        site,
        stateDirectory: join(directory, 'state'),
        jobs: [{ name: 'staff', source: { users: {} }, ...job }],
        extra,
      });
      return configPath;
    },
    run: (args) => runCliProcess(args, env),
    async runJobs(extra = []) {
      const out = join(directory, `run-${++runs}`);
      const result = await runCliProcess(['run', '-c', configPath, '--out', out, ...extra], env);
      if (result.code === 2) return { ...result, rows: [], summary: '' };
      return {
        ...result,
        rows: await harness.readResults(out),
        summary: await readFile(join(out, 'summary.md'), 'utf8'),
      };
    },
    start: (args) => startCli(args, env),
    async wordpressUsers() {
      const users: WordPressRestUser[] = [];
      for (let page = 1; ; page++) {
        const response = await fetch(
          `${site.restUrl}wp/v2/users?context=edit&per_page=100&page=${page}&orderby=id`,
          { headers: adminHeaders(site) },
        );
        const batch = (await response.json()) as WordPressRestUser[];
        users.push(...batch);
        if (page >= Number(response.headers.get('x-wp-totalpages') ?? 1)) return users;
      }
    },
    readResults: readResultRows,
    async stop() {
      await graph.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
  return harness;
}
