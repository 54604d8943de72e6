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
  /**
   * The whole environment of the harness's runs: the secrets and the fake Graph's CA, and
   * no variable of the shell running the tests (see harnessEnv). A test that needs a
   * switch passes it to the run; `undefined` there unsets a variable.
   */
  env: NodeJS.ProcessEnv;
  writeConfig(job?: Record<string, unknown>, extra?: Record<string, unknown>): Promise<string>;
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** `run` with the config into a fresh output directory, with its rows and summary.md. */
  runJobs(extra?: string[], env?: NodeJS.ProcessEnv): Promise<JobsRun>;
  start(args: string[], env?: NodeJS.ProcessEnv): RunningCli;
  wordpressUsers(): Promise<WordPressRestUser[]>;
  readResults(outDir: string): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

/** A `run` of the config: its exit, its result rows and its summary.md ('' when it wrote none). */
export type JobsRun = CliResult & { outDir: string; rows: Array<Record<string, unknown>>; summary: string };

/** Users as the REST API returns them with context=edit. */
export type WordPressRestUser = WordPressUser;

/**
 * Everything a harness run sees besides PATH, HOME and the temporary directory
 * (cli-process.ts): built from these values only, never from process.env, so that a
 * developer's ENTRA_WP_SYNC_BATCH=off, AZURE_CLIENT_CERTIFICATE_PATH or GITHUB_ACTIONS
 * cannot change what the suite exercises.
 */
export function harnessEnv(graph: FakeGraph, site: WordPressSite): NodeJS.ProcessEnv {
  return {
    AZURE_CLIENT_SECRET: testClientSecret,
    WORDPRESS_APP_PASSWORD: site.appPassword,
    NODE_EXTRA_CA_CERTS: graph.caBundleFile,
    // Children spawned with the whole of process.env on top of this (test/dist/bundles)
    // still run as outside a GitHub runner and a CI terminal.
    GITHUB_ACTIONS: '',
    CI: '',
    // Tests follow the run page by page (the default is a line every 5 s at most).
    ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS: '0',
  };
}

export async function startSyncHarness(
  users: FakeUser[],
  fake: LocalGraphOptions = {},
  /** A site other than this worker's own (e.g. a network's main site), already reset. */
  givenSite?: WordPressSite,
): Promise<SyncHarness> {
  const site = givenSite ?? (await useWordPressSite());
  const app = { tenantId: testTenantId, clientId: testClientId, clientSecret: testClientSecret };
  const graph = await startLocalGraph(new FakeTenant(users), app, fake);
  const directory = await mkdtemp(join(tmpdir(), 'entra-wp-sync-test-'));
  const configPath = join(directory, 'jobs.yaml');
  const env = harnessEnv(graph, site);
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
    run: (args, overrides = {}) => runCliProcess(args, { ...env, ...overrides }),
    async runJobs(extra = [], overrides = {}) {
      const outDir = join(directory, `run-${++runs}`);
      const result = await runCliProcess(['run', '-c', configPath, '--out', outDir, ...extra], {
        ...env,
        ...overrides,
      });
      // A run stopped before its first job (bad usage, a crash) writes neither file.
      const summary = await readFile(join(outDir, 'summary.md'), 'utf8').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
        throw error;
      });
      return { ...result, outDir, rows: await harness.readResults(outDir), summary };
    },
    start: (args, overrides = {}) => startCli(args, { ...env, ...overrides }),
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
