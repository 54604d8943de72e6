// The companion plugin is a must-use plugin: WordPress loads it whatever its Requires PHP
// header says, and a parse error or fatal there takes the whole site down. On every PHP from
// 7.4 to 8.5 it must compile cleanly and load; below 8.1 it switches itself off, telling
// administrators why and reporting active: false to the tool.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginSourceDir, shippedPluginFile } from '../../scripts/build-plugin.ts';
import { ensureWordPressCore } from '../../scripts/wordpress-core.ts';
import {
  basicAuth,
  compileFile,
  type InstalledSite,
  installSite,
  openSite,
  type PhpVersion,
  phpVersions,
  startPhp,
  type VersionSite,
} from './php-wasm-site.ts';

const pluginVersion = /^ \* Version:\s+(\S+)$/m.exec(readFileSync(shippedPluginFile, 'utf8'))?.[1];
const minimumPhp = /^ \* Requires PHP:\s+(\S+)$/m.exec(readFileSync(shippedPluginFile, 'utf8'))?.[1];
const pluginFiles = [
  shippedPluginFile,
  ...readdirSync(pluginSourceDir)
    .filter((name) => name.endsWith('.php'))
    .map((name) => join(pluginSourceDir, name)),
];
const infoRoute = '/index.php?rest_route=/entra-wp-sync/v1/info';
const switchedOff = 'Entra WP Sync companion is switched off.';

const isOlder = (version: string, than: string) => {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  const [thanMajor, thanMinor] = than.split('.').map(Number) as [number, number];
  return major < thanMajor || (major === thanMajor && minor < thanMinor);
};

let coreDir: string;
let installed: InstalledSite;
let probeDir: string;
let probeFile: string;

beforeAll(async () => {
  expect(pluginVersion).toBeDefined();
  expect(minimumPhp).toBe('8.1');
  coreDir = (await ensureWordPressCore('sid', { log: () => {} })).coreDir;
  installed = await installSite(coreDir, '8.3');
  probeDir = mkdtempSync(join(tmpdir(), 'entra-wp-sync-php-probe-'));
  probeFile = join(probeDir, 'newer-syntax.php');
  writeFileSync(
    probeFile,
    "<?php\n\ndefined( 'ABSPATH' ) || exit;\n\nfunction probe( $x ) {\n\treturn match ( $x ) { 1 => 'one', default => 'other' };\n}\n",
  );
}, 120_000);

afterAll(() => {
  if (installed) rmSync(installed.dir, { recursive: true, force: true });
  if (probeDir) rmSync(probeDir, { recursive: true, force: true });
});

describe.each(phpVersions)('the companion plugin on PHP %s', (version: PhpVersion) => {
  const active = !isOlder(version, minimumPhp!);
  let site: VersionSite;
  let runningPhp: string;

  beforeAll(async () => {
    const php = await startPhp(version);
    runningPhp = (await php.run({ code: '<?php echo PHP_VERSION;' })).text;
    expect(runningPhp.startsWith(`${version}.`)).toBe(true);
    site = await openSite(php, coreDir, installed, shippedPluginFile);
  }, 60_000);

  afterAll(() => site?.close());

  it('compiles the shipped file and every part without an error, warning or deprecation', async () => {
    // The check itself sees what this PHP cannot parse: match arrived in PHP 8.0.
    const newer = compileFile(site.php, probeFile);
    if (isOlder(version, '8.0')) await expect(newer).resolves.toMatch(/Parse error: +syntax error/);
    else await expect(newer).resolves.toBe('');
    const reported: Record<string, string> = {};
    for (const file of pluginFiles) reported[file] = await compileFile(site.php, file);
    expect(reported).toEqual(Object.fromEntries(pluginFiles.map((file) => [file, ''])));
  });

  if (active) {
    it('runs: the info route says active: true with its features, and no notice is shown', async () => {
      const info = await site.get(infoRoute, basicAuth('admin', installed.admin.appPassword));
      expect(info.httpStatusCode, info.text).toBe(200);
      const body = info.json as Record<string, unknown>;
      expect(body).toMatchObject({ version: pluginVersion, active: true });
      expect(body.features).toContain('user-meta');

      const dashboard = await site.get('/wp-admin/index.php', { Cookie: installed.admin.cookie });
      expect(dashboard.httpStatusCode).toBe(200);
      expect(dashboard.text).toContain('<div class="wrap">');
      expect(dashboard.text).not.toContain(switchedOff);
    });
  } else {
    it('switches itself off: the info route says active: false and why, naming both PHP versions', async () => {
      const info = await site.get(infoRoute, basicAuth('admin', installed.admin.appPassword));
      expect(info.httpStatusCode, info.text).toBe(200);
      const body = info.json as Record<string, unknown>;
      expect(body).toEqual({
        version: pluginVersion,
        active: false,
        reason: expect.stringContaining(`PHP ${runningPhp}`),
        php: runningPhp,
        requiresPhp: minimumPhp,
      });
      expect(body.reason).toContain(`PHP ${minimumPhp} or newer`);

      // The same permission as the active route: only accounts that may list users.
      const anonymous = await site.get(infoRoute);
      expect(anonymous.httpStatusCode).toBe(401);
      expect((anonymous.json as { code: string }).code).toBe('entra_wp_sync_forbidden');
      // No other route of the plugin is there.
      const state = await site.get(
        '/index.php?rest_route=/entra-wp-sync/v1/state/staff',
        basicAuth('admin', installed.admin.appPassword),
      );
      expect((state.json as { code: string }).code).toBe('rest_no_route');
    });

    it('tells administrators it is off and which PHP it needs, and no one else', async () => {
      const dashboard = await site.get('/wp-admin/index.php', { Cookie: installed.admin.cookie });
      expect(dashboard.httpStatusCode).toBe(200);
      const notice = /<div class="notice notice-error">[\s\S]*?<\/div>/.exec(dashboard.text)?.[0];
      expect(notice).toContain(switchedOff);
      expect(notice).toContain(`This site runs PHP ${runningPhp}`);
      expect(notice).toContain(`needs PHP ${minimumPhp} or newer`);

      const profile = await site.get('/wp-admin/profile.php', { Cookie: installed.subscriber.cookie });
      expect(profile.httpStatusCode).toBe(200);
      expect(profile.text).toContain('id="your-profile"');
      expect(profile.text).not.toContain(switchedOff);
    });
  }

  it('leaves nothing from the plugin in the PHP error log', () => {
    const log = site.debugLog();
    expect(log).not.toMatch(/PHP (Fatal|Parse) error/);
    expect(log.split('\n').filter((line) => line.includes('mu-plugins/entra-wp-sync.php'))).toEqual([]);
  });
});
