// On a site without the companion plugin WordPress drops the sync's marker meta: nothing is
// ever "managed" and whose an account is cannot be shown. The sync must not plan writes the
// site will drop, nor promise removals that can never happen.
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { runPhpOnSite, wordpressStack, workerSiteIndex } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function siteWithoutPlugin(count: number, seed: number) {
  harness = await startSyncHarness(generateUsers(count, seed));
  await runPhpOnSite("update_option('entra_testbed_without_companion', 1); echo 'ok';");
  const info = await fetch(`${harness.site.restUrl}entra-wp-sync/v1/info`);
  expect(info.status).toBe(404);
  return harness;
}

const userCount = async () =>
  Number(await wordpressStack().runSql(workerSiteIndex(), 'SELECT COUNT(*) FROM wp_users'));

describe('a site without the companion plugin', () => {
  it('refuses a job that removes users before writing anything, saying removals need the plugin', async () => {
    const site = await siteWithoutPlugin(5, 81);
    await site.writeConfig({ actions: { delete: 'soft' } });
    const before = await userCount();
    const result = await site.runJobs();
    expect(result.code).toBe(2);
    expect(result.stderr + result.stdout).toMatch(/actions\.delete is soft, but .* has no companion plugin/);
    expect(result.stderr + result.stdout).toContain('wp-content/mu-plugins/');
    expect(await userCount()).toBe(before);
  });

  it('refuses to link accounts without proof unless the job accepts it', async () => {
    const site = await siteWithoutPlugin(5, 82);
    await site.writeConfig({});
    const result = await site.runJobs();
    expect(result.code).toBe(2);
    expect(result.stderr + result.stdout).toContain('adoption.withoutCompanionPlugin: link');
  });

  it('with linking accepted, a second run with nothing changed in Entra writes nothing', async () => {
    const site = await siteWithoutPlugin(6, 83);
    await site.writeConfig({ adoption: { withoutCompanionPlugin: 'link' } });
    const first = await site.runJobs();
    expect(first.code).toBe(0);
    expect(first.rows.filter((row) => row.action === 'created')).toHaveLength(6);
    const second = await site.runJobs();
    expect(second.code).toBe(0);
    expect(second.rows.map((row) => row.action)).toEqual(Array(6).fill('unchanged'));
  });
});
