// The companion plugin is developed as parts in wordpress-plugin/src/ and shipped as the one
// file they build to (scripts/build-plugin.ts). Every part and the shipped file must parse on
// every PHP the tests run, the shipped file must be the build of the parts, and the parts
// must pass the static analysis of wordpress-plugin/phpmd.xml and wordpress-plugin/phpcs.xml.
// A missing tool fails these tests: scripts/with-node24.mjs installs them with the test bed.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildPlugin,
  pluginLoader,
  pluginParts,
  pluginSourceDir,
  shippedPluginFile,
} from '../../scripts/build-plugin.ts';

const repoRoot = join(pluginSourceDir, '..', '..');
const pluginDir = join(repoRoot, 'wordpress-plugin');

/**
 * The PHP binaries the tests run the plugin on: the test bed's PHP 8.2 (php8.2-cli, the same
 * build as its php8.2-fpm). Add one here (e.g. 'php8.3') when the test bed runs another.
 */
const phpBinaries = ['php'];

/** Runs a tool to completion; a tool that is not installed fails the test, saying how to get it. */
function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `${command} is not installed. Run as root: apt-get install -y --no-install-recommends phpmd php-codesniffer php8.2-cli (npm test installs them, see scripts/with-node24.mjs).`
        : `${command} failed to run: ${result.error.message}`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

const partFiles = readdirSync(pluginSourceDir)
  .filter((name) => name.endsWith('.php'))
  .sort()
  .map((name) => join(pluginSourceDir, name));

describe('the companion plugin’s source', () => {
  it('has every part in wordpress-plugin/src/ in the build', () => {
    expect(partFiles.map((file) => relative(pluginSourceDir, file))).toEqual(
      [pluginLoader, ...pluginParts].sort(),
    );
  });

  describe.each(phpBinaries)('parses with %s', (php) => {
    it.each([...partFiles, shippedPluginFile].map((file) => relative(repoRoot, file)))('%s', (file) => {
      const lint = run(php, ['-l', file]);
      expect(lint.status, lint.output).toBe(0);
    });
  });

  it('ships wordpress-plugin/entra-wp-sync.php as the build of the parts', () => {
    const inStep = readFileSync(shippedPluginFile, 'utf8') === buildPlugin();
    expect(
      inStep,
      'wordpress-plugin/entra-wp-sync.php differs from the build of wordpress-plugin/src/: edit the parts, then run `npm run build:plugin`',
    ).toBe(true);
    const check = run(process.execPath, ['scripts/build-plugin.ts', '--check']);
    expect(check.status, check.output).toBe(0);
  });

  it('passes phpmd with wordpress-plugin/phpmd.xml', () => {
    const phpmd = run('phpmd', [
      relative(repoRoot, pluginSourceDir),
      'text',
      relative(repoRoot, join(pluginDir, 'phpmd.xml')),
    ]);
    expect(phpmd.status, phpmd.output).toBe(0);
  });

  it('passes phpcs with wordpress-plugin/phpcs.xml', () => {
    const phpcs = run('phpcs', ['-s', '--report=full', `--standard=${join(pluginDir, 'phpcs.xml')}`]);
    expect(phpcs.status, phpcs.output).toBe(0);
  });
});

describe('scripts/build-plugin.ts', () => {
  let scratch: string | undefined;
  afterEach(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
  });
  /** A copy of the parts to break. */
  const copyOfParts = (): string => {
    scratch = mkdtempSync(join(tmpdir(), 'entra-wp-sync-plugin-parts-'));
    cpSync(pluginSourceDir, scratch, { recursive: true });
    return scratch;
  };

  it('starts the shipped file with the plugin header, then says it is generated', () => {
    const built = buildPlugin();
    expect(built.startsWith('<?php\n/**\n * Plugin Name:')).toBe(true);
    expect(built).toContain('Generated file: do not edit it here.');
    expect(built.match(/^defined\( 'ABSPATH' \) \|\| exit;$/gm)).toHaveLength(1);
    expect(built.match(/^<\?php/gm)).toHaveLength(1);
    expect(built).not.toMatch(/^require __DIR__/m);
  });

  it('builds something else when a part changes', () => {
    const parts = copyOfParts();
    const file = join(parts, 'batch.php');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n// changed\n`);
    expect(buildPlugin(parts)).not.toBe(buildPlugin());
  });

  it('refuses a part it does not know, a part without its guard and a loader out of order', () => {
    const parts = copyOfParts();
    writeFileSync(join(parts, 'stray.php'), "<?php\n\ndefined( 'ABSPATH' ) || exit;\n");
    expect(() => buildPlugin(parts)).toThrow(/does not know: stray\.php/);
    rmSync(join(parts, 'stray.php'));

    const batch = join(parts, 'batch.php');
    const original = readFileSync(batch, 'utf8');
    writeFileSync(batch, original.replace("defined( 'ABSPATH' ) || exit;\n\n", ''));
    expect(() => buildPlugin(parts)).toThrow(/batch\.php must begin with/);
    writeFileSync(batch, original);

    const loader = join(parts, pluginLoader);
    const text = readFileSync(loader, 'utf8');
    writeFileSync(loader, text.replace("require __DIR__ . '/batch.php';\n", ''));
    expect(() => buildPlugin(parts)).toThrow(/one require line per part/);
  });
});
