// `check` tells an administrator what is wrong and how to fix it, one line per check, and
// exits as the README's exit codes say: 0 when every line passes, 1 when one fails.
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.ts';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { startWordPressProxy, type WordPressProxy } from '../support/wordpress-proxy.ts';

let harness: SyncHarness | undefined;
let proxy: WordPressProxy | undefined;

afterEach(async () => {
  await harness?.stop();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

/** `check` with the harness's environment changed as `env` says (undefined unsets a variable). */
function check(env: NodeJS.ProcessEnv = {}) {
  return harness!.run(['check', '-c', harness!.configPath], env);
}

function lineOf(stdout: string, name: string): string {
  return stdout.split('\n').find((line) => line.includes(name)) ?? `(no line for ${name})`;
}

describe('check', () => {
  it('passes every line on a well set-up site and exits 0', async () => {
    harness = await startSyncHarness(generateUsers(7, 81));
    await harness.writeConfig();
    const result = await check();
    expect(result.code, result.stdout).toBe(ExitCode.ok);
    expect(result.stdout).not.toContain('FAIL');
    expect(lineOf(result.stdout, 'Entra token')).toMatch(/^pass .*client-secret/);
    expect(lineOf(result.stdout, 'job query')).toContain('7 users');
    expect(lineOf(result.stdout, 'companion plugin')).toMatch(/^pass .*version 0\.1\.0/);
    expect(lineOf(result.stdout, 'state backend writable')).toMatch(/^pass/);
  });

  it('names a wrong client secret with the Entra code and the fix, and exits 1', async () => {
    harness = await startSyncHarness([]);
    await harness.writeConfig();
    const result = await check({ AZURE_CLIENT_SECRET: 'not-the-secret' });
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    expect(lineOf(result.stdout, 'Entra token')).toMatch(/^FAIL .*AADSTS7000215.*AZURE_CLIENT_SECRET/);
    expect(result.stdout).not.toContain('not-the-secret');
  });

  it('says no Entra credential is set when the environment has none, and exits 1', async () => {
    harness = await startSyncHarness([]);
    await harness.writeConfig();
    const result = await check({ AZURE_CLIENT_SECRET: undefined });
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    expect(lineOf(result.stdout, 'Entra token')).toMatch(
      /^FAIL .*No Entra credential found in the environment\..*Set AZURE_CLIENT_SECRET/,
    );
    // Nothing was asked of Entra without a credential.
    expect(harness.graph.requests.filter((request) => request.path.endsWith('/token'))).toEqual([]);
  });

  it('names the missing Graph permission and exits 1', async () => {
    harness = await startSyncHarness([], { permissions: [] });
    await harness.writeConfig();
    const result = await check();
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    expect(lineOf(result.stdout, 'Entra token')).toMatch(/^pass/);
    expect(lineOf(result.stdout, 'Graph')).toMatch(/^FAIL .*User\.Read\.All/);
  });

  it('says when WordPress cannot be reached, and exits 1', async () => {
    harness = await startSyncHarness([]);
    await harness.writeConfig({ wordpress: { url: 'http://127.0.0.1:9' } });
    const result = await check();
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    expect(lineOf(result.stdout, 'WordPress reachable')).toMatch(/^FAIL .*Could not reach WordPress/);
  });

  it('says when the application password is refused, and exits 1', async () => {
    harness = await startSyncHarness([]);
    await harness.writeConfig();
    const result = await check({ WORDPRESS_APP_PASSWORD: 'aaaa bbbb cccc dddd eeee ffff' });
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    expect(lineOf(result.stdout, 'application password')).toMatch(
      /^FAIL .*did not accept the application password/,
    );
  });

  it('lists the capabilities an account lacks, and exits 1', async () => {
    harness = await startSyncHarness([]);
    await harness.writeConfig({ wordpress: { username: harness.site.editorUser } });
    const result = await check({ WORDPRESS_APP_PASSWORD: harness.site.editorAppPassword });
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    // The editor's password from this environment was accepted: only the capabilities fail.
    expect(lineOf(result.stdout, 'application password')).toMatch(/^pass/);
    expect(lineOf(result.stdout, 'can create, edit, promote and delete users')).toMatch(
      /^FAIL .*missing list_users/,
    );
  });

  it('says when the companion plugin is absent, and exits 1', async () => {
    harness = await startSyncHarness([]);
    // A site without the plugin answers its routes with rest_no_route.
    proxy = await startWordPressProxy(harness.site.url, {
      before: (request) =>
        request.route.startsWith('/entra-wp-sync/')
          ? {
              status: 404,
              body: { code: 'rest_no_route', message: 'No route was found', data: { status: 404 } },
            }
          : 'forward',
    });
    await harness.writeConfig({ wordpress: { url: proxy.url } });
    const result = await check();
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    expect(lineOf(result.stdout, 'companion plugin')).toMatch(/^FAIL .*not installed/);
  });
});
