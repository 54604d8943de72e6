// The application password goes with every WordPress request, so it travels only over
// HTTPS (loopback excepted, for local test beds) and never to an address the site
// redirects to; and a Graph failure while reading a group is reported as what it is,
// not as a missing group.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { redirectFailure, WordPressRequestError } from '../../src/wordpress/errors.ts';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import type { CliResult } from '../support/cli-process.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';
import { filesUnder, leaks, type Output } from './secret-scan.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;
let trap: Server | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await new Promise<void>((resolve) => (trap ? trap.close(() => resolve()) : resolve()));
  trap = undefined;
  await harness?.stop();
  harness = undefined;
});

const synced = async () =>
  (await harness!.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);

/** Where `needle` is written in the file, as line:column of its first character. */
async function positionIn(path: string, needle: string): Promise<string> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const line = lines.findIndex((text) => text.includes(needle));
  if (line < 0) throw new Error(`${path} does not contain ${needle}`);
  return `${line + 1}:${lines[line]!.indexOf(needle) + 1}`;
}

/** No form of the application password in the run's output or in anything it wrote. */
async function expectNoPasswordIn(result: CliResult, directory: string): Promise<void> {
  const site = harness!.site;
  const outputs: Output[] = [
    { where: 'stdout', text: result.stdout },
    { where: 'stderr', text: result.stderr },
    ...(await filesUnder(directory, 'the test directory')),
  ];
  const found = leaks(outputs, {
    name: 'the WordPress application password',
    values: [site.appPassword, site.appPassword.replace(/\s+/g, '')],
    extraForms: [Buffer.from(`${site.adminUser}:${site.appPassword.replace(/\s+/g, '')}`).toString('base64')],
  });
  expect(found).toEqual([]);
}

describe('security: the application password goes only over HTTPS or to loopback, never where a redirect points', () => {
  it('refuses a top-level http:// wordpress.url at its place in jobs.yaml (exit 2), before any request', async () => {
    harness = await startSyncHarness(generateUsers(3, 7101));
    const config = await harness.writeConfig(
      {},
      { wordpress: { url: 'http://intranet.example.com', username: harness.site.adminUser } },
    );
    const out = join(harness.directory, 'out');
    const result = await harness.run(['run', '-c', config, '--out', out]);
    expect(result.code, result.stderr).toBe(2);
    const at = await positionIn(config, 'http://intranet.example.com');
    expect(result.stderr).toContain(`${config}:${at} wordpress.url: must be an https:// URL`);
    expect(result.stderr).toContain('(got "http://intranet.example.com")');
    expect(result.stderr).toMatch(/loopback/);
    expect(harness.graph.requests).toEqual([]);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(harness.directory, 'state'))).toBe(false);
    expect(await synced()).toEqual([]);
  });

  it("refuses a job's own http:// wordpress.url at its place in jobs.yaml (exit 2)", async () => {
    harness = await startSyncHarness(generateUsers(3, 7102));
    const config = await harness.writeConfig({ wordpress: { url: 'http://intranet.example.com:8080/' } });
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(2);
    const at = await positionIn(config, 'http://intranet.example.com:8080/');
    expect(result.stderr).toContain(`${config}:${at} jobs[0].wordpress.url: must be an https:// URL`);
    expect(harness.graph.requests).toEqual([]);
    expect(await synced()).toEqual([]);
  });

  it('accepts http:// only for 127.0.0.0/8, [::1] and localhost', () => {
    const configFor = (url: string) =>
      [
        'graph:',
        '  tenantId: contoso.onmicrosoft.com',
        '  clientId: 0b5a3c1e-2f4d-4e6a-8b9c-1d2e3f4a5b6c',
        'wordpress:',
        `  url: ${url}`,
        '  username: sync',
        'jobs:',
        '  - name: staff',
        '    source:',
        '      users: {}',
        '',
      ].join('\n');
    const problem = (url: string) => {
      try {
        parseConfigText(configFor(url), 'jobs.yaml', {}, '/tmp');
        return undefined;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.message;
      }
    };
    for (const url of [
      'https://intranet.example.com',
      'https://10.0.0.8:8443/wp',
      'http://127.0.0.1:8080',
      'http://127.45.6.7/blog/',
      'http://localhost:8080',
      'HTTP://LocalHost',
      'http://[::1]:8080/',
    ]) {
      expect(problem(url), url).toBeUndefined();
    }
    for (const url of [
      'http://intranet.example.com',
      'http://10.0.0.8',
      'http://0.0.0.0:8080',
      'http://[::2]',
      'http://127.0.0.1.nip.io',
      'http://localhost.example.com',
    ]) {
      expect(problem(url), url).toMatch(/^jobs\.yaml:5:8 wordpress\.url: must be an https:\/\/ URL/);
    }
  });

  it('fails on a 301 from a REST request, naming where it redirects, with nothing written and the password nowhere', async () => {
    harness = await startSyncHarness(generateUsers(3, 7103));
    // The first request (discovery) reaches WordPress; from then on the site "has moved".
    proxy = await startWordPressProxy(harness.site.url, {
      before: (request) =>
        request.number === 1
          ? 'forward'
          : {
              status: 301,
              headers: { location: `https://elsewhere.example${request.url}` },
              body: { moved: true },
            },
    });
    await harness.writeConfig({ wordpress: { url: proxy.url } });
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(1);
    const second = proxy.requests[1]!;
    expect(result.stderr).toContain(
      `WordPress answered ${second.method} ${new URL(second.url, proxy.url).pathname} with 301 redirect to https://elsewhere.example${second.url}`,
    );
    expect(result.stderr).toMatch(/hint: .*wordpress\.url/);
    expect(proxy.requests).toHaveLength(2);
    expect(result.rows.filter((row) => row.action === 'created')).toEqual([]);
    expect(await synced()).toEqual([]);
    await expectNoPasswordIn(result, harness.directory);
  });

  it('does not take a 302 on the first discovery request as success, nor follow it with the password', async () => {
    harness = await startSyncHarness(generateUsers(3, 7104));
    const followed: string[] = [];
    trap = createServer((request, response) => {
      followed.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => trap!.listen(0, '127.0.0.1', resolve));
    const elsewhere = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    // WordPress's own answer (a valid /users/me), sent on as a redirect: only the status says no.
    proxy = await startWordPressProxy(harness.site.url, {
      after: (request, _status, body) =>
        request.number === 1
          ? { status: 302, headers: { location: `${elsewhere}${request.url}` }, body: JSON.parse(body) }
          : undefined,
    });
    await harness.writeConfig({ wordpress: { url: proxy.url } });
    const result = await harness.runJobs();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`with 302 redirect to ${elsewhere}${proxy.requests[0]!.url}`);
    expect(result.stderr).toContain(`hint: Set wordpress.url to ${elsewhere}`);
    expect(proxy.requests).toHaveLength(1);
    expect(followed).toEqual([]);
    expect(result.rows.filter((row) => row.action === 'created')).toEqual([]);
    expect(await synced()).toEqual([]);
    await expectNoPasswordIn(result, harness.directory);
  });
});

describe('security: a redirect from WordPress is an error that says what to configure', () => {
  const site = 'https://intranet.example.com/blog';
  const url = `${site}/wp-json/wp/v2/users/me?context=edit`;
  const failure = (location: string | undefined) => redirectFailure(301, location, 'GET', url, site);

  it('names the new site address when the target keeps the route, without any user:password in it', () => {
    const error = failure('https://sync:guess@www.example.com/blog/wp-json/wp/v2/users/me?context=edit');
    expect(error).toBeInstanceOf(WordPressRequestError);
    expect(error).toMatchObject({ status: 301, transient: false, exitCode: 1 });
    expect(error.message).toBe(
      'WordPress answered GET /blog/wp-json/wp/v2/users/me with 301 redirect to https://www.example.com/blog/wp-json/wp/v2/users/me?context=edit; redirects are not followed, so the application password goes only to wordpress.url.',
    );
    expect(error.hint).toBe(
      'Set wordpress.url to https://www.example.com/blog, the address the site redirects to.',
    );
  });

  it('resolves a relative Location, and says what to do when the route is not kept or no Location is given', () => {
    const login = failure('/wp-login.php?redirect_to=x');
    expect(login.message).toContain('redirect to https://intranet.example.com/wp-login.php?redirect_to=x;');
    expect(login.hint).toMatch(
      /^Set wordpress\.url to the address the site redirects to; if it redirects the REST API to a login page/,
    );
    expect(failure(undefined).message).toBe(
      'WordPress answered GET /blog/wp-json/wp/v2/users/me with 301 and no Location.',
    );
  });

  it('calls an https:// to http:// redirect a downgrade instead of suggesting the http:// address', () => {
    const error = failure('http://intranet.example.com/blog/wp-json/wp/v2/users/me?context=edit');
    expect(error.hint).toMatch(/^The site redirects https:\/\/ to plain http:\/\//);
  });
});

describe('security: a Graph failure while reading a group is reported as itself, not as a missing group', () => {
  const groupId = '0e0e0e0e-0000-4000-8000-00000000f001';

  async function groupJob(permissions?: string[]) {
    const people = generateUsers(4, 7201);
    harness = await startSyncHarness(people, permissions ? { permissions } : {});
    harness.graph.tenant.addGroup({
      id: groupId,
      displayName: 'Staff',
      members: [people[0]!.id, people[1]!.id],
    });
    await harness.writeConfig({ source: { groups: [groupId] } });
    return people;
  }

  it('a token endpoint answering 500 every time is a sign-in failure (exit 1)', async () => {
    await groupJob();
    harness!.graph.faults.tokenFailureStatus = 500;
    harness!.graph.faults.tokenFailures = Number.POSITIVE_INFINITY;
    const result = await harness!.runJobs();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('Could not get a token from Entra');
    expect(result.stderr).toContain('AADSTS50000');
    expect(result.stderr).toMatch(/hint: Entra's sign-in service failed .*run again later/);
    expect(result.stderr).not.toContain('no Entra group');
    expect(await synced()).toEqual([]);
  });

  it('an app without GroupMember.Read.All is told the permission is missing (exit 1)', async () => {
    await groupJob(['User.Read.All']);
    const result = await harness!.runJobs();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/Insufficient privileges|Authorization_RequestDenied/);
    expect(result.stderr).toMatch(/hint: .*GroupMember\.Read\.All/);
    expect(result.stderr).not.toContain('no Entra group');
    expect(await synced()).toEqual([]);
  });

  it('an unknown group object ID is still "no Entra group with object ID" (exit 2)', async () => {
    await groupJob();
    const unknown = '0e0e0e0e-0000-4000-8000-00000000f404';
    await harness!.writeConfig({ source: { groups: [unknown] } });
    const result = await harness!.runJobs();
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`no Entra group with object ID ${unknown}`);
    expect(await synced()).toEqual([]);
  });

  it('GET /groups/{id} answering 503 once (Retry-After: 0) is retried and the run succeeds', async () => {
    const people = await groupJob();
    harness!.graph.faults.once({
      path: new RegExp(`^/v1\\.0/groups/${groupId}$`),
      status: 503,
      retryAfter: 0,
    });
    const result = await harness!.runJobs();
    expect(result.code, result.stderr).toBe(0);
    const groupReads = harness!.graph.requests.filter(
      (request) => request.path === `/v1.0/groups/${groupId}`,
    );
    expect(groupReads.map((request) => request.status)).toEqual([503, 200]);
    expect(
      result.rows
        .filter((row) => row.action === 'created')
        .map((row) => row.objectId)
        .sort(),
    ).toEqual([people[0]!.id, people[1]!.id].sort());
  });
});
