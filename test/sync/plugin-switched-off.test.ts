// On a PHP older than it runs on, the companion plugin switches itself off and its info
// route answers active: false (test/plugin-php/php-versions.test.ts loads it on PHP 7.4 and
// 8.0 to see that). Such a site is neither one with the plugin nor one without it: `check`
// fails its line naming the PHP version and the fix, and a run stops before writing.
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

/** The site behind a proxy that answers the plugin's routes as the plugin does on PHP 7.4. */
async function siteOnOldPhp(users: number, seed: number): Promise<SyncHarness> {
  harness = await startSyncHarness(generateUsers(users, seed));
  proxy = await startWordPressProxy(harness.site.url, {
    before: (request) => {
      if (request.route === '/entra-wp-sync/v1/info') {
        return {
          status: 200,
          body: {
            version: '0.1.0',
            active: false,
            reason:
              'This site runs PHP 7.4.33; the Entra WP Sync companion plugin needs PHP 8.1 or newer. Upgrade PHP to 8.1 or newer.',
            php: '7.4.33',
            requiresPhp: '8.1',
          },
        };
      }
      // A plugin switched off registers no other route.
      if (request.route.startsWith('/entra-wp-sync/')) {
        return {
          status: 404,
          body: { code: 'rest_no_route', message: 'No route was found', data: { status: 404 } },
        };
      }
      return 'forward';
    },
  });
  await harness.writeConfig({ wordpress: { url: proxy.url } });
  return harness;
}

const lineOf = (stdout: string, name: string) =>
  stdout.split('\n').find((line) => line.includes(name)) ?? `(no line for ${name})`;

describe('a site whose companion plugin switched itself off on an old PHP', () => {
  it('fails the companion plugin line of check, naming the PHP version and the fix', async () => {
    const site = await siteOnOldPhp(3, 91);
    const result = await site.run(['check', '-c', site.configPath]);
    expect(result.code, result.stdout).toBe(ExitCode.failed);
    const line = lineOf(result.stdout, 'companion plugin');
    expect(line).toMatch(
      /^FAIL .*switched off: the site runs PHP 7\.4\.33 and the plugin needs PHP 8\.1 or newer/,
    );
    expect(result.stdout).toContain('Upgrade PHP on the site to 8.1 or newer');
    expect(result.stdout).not.toContain('not installed');
  });

  it('stops a run before anything is written, with the same reason instead of "no companion plugin"', async () => {
    const site = await siteOnOldPhp(4, 92);
    const before = (await site.wordpressUsers()).length;
    const result = await site.runJobs();
    const output = result.stderr + result.stdout;
    expect(result.code, output).toBe(ExitCode.usage);
    expect(output).toContain('switched off: the site runs PHP 7.4.33 and the plugin needs PHP 8.1 or newer');
    expect(output).toContain('Upgrade PHP on the site to 8.1 or newer');
    expect(output).not.toMatch(/has no companion plugin|not installed/);
    expect(proxy!.requests.filter((request) => request.method !== 'GET')).toEqual([]);
    expect((await site.wordpressUsers()).length).toBe(before);
  });
});
