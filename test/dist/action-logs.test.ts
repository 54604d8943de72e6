// The log an administrator reads in the Actions UI: each job folded into a group with a
// progress line per page (counts and rate), a counts line per job that stays visible, and
// with debug logging on (RUNNER_DEBUG) the credential, the state backend, Graph's request
// ids and the waits of retried requests; and never a secret's value.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretVariableNames } from '../../src/config/environment.ts';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { runnerFiles, startActionMain } from '../support/action-process.ts';
import { type SyncHarness, startSyncHarness, testClientId } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import { debugLines, groupLines } from '../support/workflow-commands.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  harness?.graph.faults.clear();
  await harness?.stop();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

describe('the log', () => {
  it("folds each job into a group with a line per page, and after it a line with the job's counts", async () => {
    harness = await startSyncHarness(generateUsers(6, 361));
    await harness.writeConfig({ limits: { pageSize: 2 } });
    const result = await startActionMain(
      { config: harness.configPath, out: join(harness.directory, 'out') },
      harness.env,
      await runnerFiles(harness.directory),
    ).result;

    expect(result.code, result.stdout).toBe(0);
    const group = groupLines(result.stdout, 'Sync of job staff');
    expect(group).toBeDefined();
    const pages = group!.filter((line) => line.includes('users read'));
    expect(pages).toHaveLength(3);
    expect(pages[0]).toMatch(/^staff: page 1, 2 of 6 users read, 2 written, 0 failed(, \d+\/s)?/);
    expect(pages[2]).toMatch(/^staff: page 3, 6 of 6 users read, 6 written, 0 failed(, \d+\/s)?/);
    const afterGroup = result.stdout.split('::endgroup::\n')[1]?.split('\n')[0];
    expect(afterGroup).toMatch(/^staff: 6 created; cycle complete, 3 pages, 6 of 6 users; \d/);
    // No debug lines unless the run has debug logging on.
    expect(debugLines(result.stdout)).toEqual([]);
  });

  it('with RUNNER_DEBUG: the credential, the state backend, each Graph request id and the waits of retried requests', async () => {
    harness = await startSyncHarness(generateUsers(4, 362));
    // WordPress is busy once, when the sync first asks who it signs in as.
    let busy = true;
    proxy = await startWordPressProxy(harness.site.url, {
      before: (request) => {
        if (!busy || request.route !== '/wp/v2/users/me') return 'forward';
        busy = false;
        return { status: 503, body: { code: 'busy', message: 'Service Unavailable' } };
      },
    });
    await harness.writeConfig({ wordpress: { url: proxy.url } });
    harness.graph.faults.once({ path: /^\/v1\.0\/users$/, status: 429, retryAfter: 1 });
    const result = await startActionMain(
      { config: harness.configPath, out: join(harness.directory, 'out') },
      { ...harness.env, RUNNER_DEBUG: '1' },
      await runnerFiles(harness.directory),
    ).result;

    expect(result.code, result.stdout).toBe(0);
    const debug = debugLines(result.stdout);
    expect(debug).toContain(
      `staff: Entra credential client-secret for app ${testClientId} in tenant ${harness.graph.tenantId}`,
    );
    expect(debug).toContain(`staff: state backend file: directory ${join(harness.directory, 'state')}`);
    expect(debug).toContainEqual(
      expect.stringMatching(
        /^Graph GET \/v1\.0\/users answered 429 in \d+ ms \(request-id [0-9a-f-]{36}\); Graph asks to wait 1 s before a retry \(Retry-After\)$/,
      ),
    );
    expect(debug).toContainEqual(
      expect.stringMatching(/^Graph GET \/v1\.0\/users answered 200 in \d+ ms \(request-id [0-9a-f-]{36}\)$/),
    );
    expect(debug).toContainEqual(
      expect.stringMatching(/^WordPress GET \/wp\/v2\/users\/me answered 503; retry 1 of 4 in \d+\.\d s$/),
    );
  });
});

describe('secrets in the log', () => {
  it("masks every secret variable of src/config/environment.ts and each job's application password variable, before anything else", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'entra-wp-sync-mask-'));
    try {
      const configPath = join(directory, 'jobs.yaml');
      await writeFile(
        configPath,
        `graph:
  tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
  clientId: 0b5a3c1e-2f4d-4e6a-8b9c-1d2e3f4a5b6c
wordpress:
  url: https://intranet.example.com
  username: entra-sync
jobs:
  - name: staff
    source:
      users: {}
  - name: alumni
    wordpress:
      applicationPasswordEnv: ALUMNI_APP_PASSWORD
    source:
      users: {}
`,
      );
      const jobs = [
        { wordpress: { applicationPasswordEnv: 'WORDPRESS_APP_PASSWORD' } },
        { wordpress: { applicationPasswordEnv: 'ALUMNI_APP_PASSWORD' } },
      ];
      const secrets = Object.fromEntries(
        secretVariableNames(jobs).map((name) => [name, `value of ${name} ${name.length * 7919}`]),
      );
      expect(Object.keys(secrets)).toContain('ALUMNI_APP_PASSWORD');
      // An unknown job stops the run once jobs.yaml is loaded: nothing is read or written.
      const result = await startActionMain(
        { config: configPath, job: 'nobody', out: join(directory, 'out') },
        secrets,
        await runnerFiles(directory),
      ).result;

      expect(result.code).toBe(1);
      const lines = result.stdout.split('\n').filter(Boolean);
      const masks = lines.filter((line) => line.startsWith('::add-mask::'));
      expect(masks.sort()).toEqual(
        Object.values(secrets)
          .map((value) => `::add-mask::${value}`)
          .sort(),
      );
      // Registered before any other line, and the values show nowhere else.
      expect(lines.slice(0, masks.length)).toEqual(expect.arrayContaining(masks));
      const rest = lines.slice(masks.length).join('\n') + result.stderr;
      for (const value of Object.values(secrets)) expect(rest).not.toContain(value);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
