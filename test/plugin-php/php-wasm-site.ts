// WordPress on PHP builds from npm (@php-wasm/node: PHP 7.4 to 8.5 compiled to WebAssembly)
// with SQLite instead of MariaDB, to load the companion plugin on PHP versions the machine
// does not have. Requests go straight to PHP's request handler, with no server between.
//
// The core is the test bed's cached Debian tree, mounted as it is: nothing writes to it.
// Debian's wp-config.php reads /etc/wordpress/config-default.php, which points the content
// directory, the database and the debug log at a throwaway directory per site.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/*
 * @php-wasm's type declarations re-export through directory imports, which TypeScript's
 * nodenext resolution cannot follow, so the little used here is typed here.
 */
interface PhpResponse {
  httpStatusCode: number;
  text: string;
  json: unknown;
}
interface Php {
  run(options: { code: string }): Promise<PhpResponse & { errors: string; exitCode: number }>;
  mount(path: string, handler: unknown): Promise<() => Promise<void>>;
  exit(): void;
}
interface RequestHandler {
  request(request: { url: string; headers?: Record<string, string> }): Promise<PhpResponse>;
}
const phpWasmNode = (await import('@php-wasm/node')) as unknown as {
  loadNodeRuntime(version: string, options: object): Promise<number>;
  createNodeFsMountHandler(hostPath: string): unknown;
};
const phpWasm = (await import('@php-wasm/universal')) as unknown as {
  PHP: new (runtime: number) => Php;
  PHPRequestHandler: new (config: object) => RequestHandler;
  SupportedPHPVersions: readonly string[];
};
const { createNodeFsMountHandler, loadNodeRuntime } = phpWasmNode;

/** The PHP versions the plugin must load on (README, the plugin's header). */
export const phpVersions = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4', '8.5'] as const;
export type PhpVersion = (typeof phpVersions)[number];

for (const version of phpVersions) {
  if (!phpWasm.SupportedPHPVersions.includes(version)) {
    throw new Error(
      `@php-wasm/node no longer ships PHP ${version}; the plugin's PHP range needs a new look.`,
    );
  }
}

/** The SQLite database integration plugin that the Playground CLI package ships. */
const sqliteZip = join(
  dirname(createRequire(import.meta.url).resolve('@wp-playground/cli/package.json')),
  'sqlite-database-integration.zip',
);
const sqlitePluginDir = '/site/wp-content/plugins/plugin-sqlite-database-integration';
const siteUrl = 'http://localhost';

/** PHP that reports everything: a deprecation is a finding here, not noise. */
const strictIni = "error_reporting(E_ALL); ini_set('display_errors', '0'); ini_set('log_errors', '1');";

export async function startPhp(version: PhpVersion): Promise<Php> {
  return new phpWasm.PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
}

/**
 * Compiles a plugin file without running it: every part (and the shipped file) begins with
 * `defined( 'ABSPATH' ) || exit;`, so with ABSPATH undefined PHP compiles the whole file,
 * reporting parse errors, compile errors and compile-time deprecations, then stops at that
 * line. Returns what PHP reported ('' when nothing).
 */
export async function compileFile(php: Php, hostFile: string): Promise<string> {
  const dir = `/lint-${Math.random().toString(36).slice(2)}`;
  const unmount = await php.mount(dir, createNodeFsMountHandler(dirname(hostFile)));
  const file = `${dir}/${hostFile.split('/').pop()}`;
  try {
    const result = await php.run({ code: `<?php ${strictIni} include ${JSON.stringify(file)};` });
    return `${result.errors}${result.text}`.trim();
  } catch (error) {
    // A fatal error ends the request with exit code 255; php-wasm throws with PHP's output.
    return error instanceof Error ? error.message : String(error);
  } finally {
    await unmount();
  }
}

function siteConfig(): string {
  const salts = ['AUTH', 'SECURE_AUTH', 'LOGGED_IN', 'NONCE'].flatMap((name) => [
    `define( '${name}_KEY', '${name.toLowerCase()}-key-for-tests' );`,
    `define( '${name}_SALT', '${name.toLowerCase()}-salt-for-tests' );`,
  ]);
  return `<?php
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', '/wordpress/' );
}
define( 'WP_CONTENT_DIR', '/site/wp-content' );
define( 'WP_CONTENT_URL', '${siteUrl}/wp-content' );
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wordpress' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', 'localhost' );
define( 'DB_DIR', '/site/wp-content/database/' );
define( 'DB_FILE', 'wordpress.sqlite' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '/site/debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_ENVIRONMENT_TYPE', 'local' );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'DISABLE_WP_CRON', true );
${salts.join('\n')}
`;
}

/** An installed site's files and who may sign in to it. */
export interface InstalledSite {
  /** Holds etc/ (Debian's config directory) and site/ (wp-content, the database, the log). */
  dir: string;
  admin: { appPassword: string; cookie: string };
  subscriber: { cookie: string };
}

async function mountSite(php: Php, coreDir: string, dir: string): Promise<void> {
  await php.mount('/wordpress', createNodeFsMountHandler(coreDir));
  await php.mount('/etc/wordpress', createNodeFsMountHandler(join(dir, 'etc')));
  await php.mount('/site', createNodeFsMountHandler(join(dir, 'site')));
}

/**
 * Installs WordPress once, without the plugin, into a throwaway directory: an
 * administrator with an application password, a subscriber, and sign-in cookies for both.
 * Each version's site starts from a copy of it (the database is PHP-version-neutral).
 */
export async function installSite(coreDir: string, version: PhpVersion): Promise<InstalledSite> {
  const dir = mkdtempSync(join(tmpdir(), 'entra-wp-sync-php-'));
  const content = join(dir, 'site', 'wp-content');
  for (const sub of ['mu-plugins', 'plugins', 'database']) mkdirSync(join(content, sub), { recursive: true });
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'config-default.php'), siteConfig());
  const php = await startPhp(version);
  try {
    await mountSite(php, coreDir, dir);
    await php.mount('/sqlite-zip', createNodeFsMountHandler(dirname(sqliteZip)));
    await php.run({
      code: `<?php
$zip = new ZipArchive();
if ( true !== $zip->open( '/sqlite-zip/${sqliteZip.split('/').pop()}' ) ) { throw new Exception( 'cannot open the SQLite plugin zip' ); }
$zip->extractTo( '/site/wp-content/plugins/' );
$zip->close();
file_put_contents(
	'/site/wp-content/db.php',
	str_replace(
		array( '{SQLITE_IMPLEMENTATION_FOLDER_PATH}', '{SQLITE_PLUGIN}' ),
		array( '${sqlitePluginDir}', 'plugin-sqlite-database-integration/load.php' ),
		file_get_contents( '${sqlitePluginDir}/db.copy' )
	)
);`,
    });
    await php.run({
      code: `<?php ${strictIni}
$_SERVER['HTTP_HOST'] = 'localhost';
define( 'WP_INSTALLING', true );
require '/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_install( 'PHP versions', 'admin', 'admin@example.com', true, '', 'admin-password-for-tests' );
wp_insert_user( array( 'user_login' => 'member', 'user_email' => 'member@example.com', 'user_pass' => 'member-password-for-tests', 'role' => 'subscriber' ) );`,
    });
    // A second request: the cookie names hash the site URL, which the install just set.
    const signIn = await php.run({
      code: `<?php ${strictIni}
$_SERVER['HTTP_HOST'] = 'localhost';
require '/wordpress/wp-load.php';
function entra_test_cookie( $user ) {
	$expiry = time() + DAY_IN_SECONDS;
	return AUTH_COOKIE . '=' . rawurlencode( wp_generate_auth_cookie( $user->ID, $expiry, 'auth' ) ) . '; '
		. LOGGED_IN_COOKIE . '=' . rawurlencode( wp_generate_auth_cookie( $user->ID, $expiry, 'logged_in' ) );
}
$admin  = get_user_by( 'login', 'admin' );
$member = get_user_by( 'login', 'member' );
list( $password ) = WP_Application_Passwords::create_new_application_password( $admin->ID, array( 'name' => 'php-versions' ) );
echo wp_json_encode( array(
	'admin'      => array( 'appPassword' => $password, 'cookie' => entra_test_cookie( $admin ) ),
	'subscriber' => array( 'cookie' => entra_test_cookie( $member ) ),
) );`,
    });
    if (signIn.errors) throw new Error(`Installing WordPress on PHP ${version} reported: ${signIn.errors}`);
    return { dir, ...(JSON.parse(signIn.text) as Omit<InstalledSite, 'dir'>) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    php.exit();
  }
}

/** A copy of the installed site with the shipped plugin in mu-plugins, on one PHP version. */
export interface VersionSite {
  php: Php;
  get(url: string, headers?: Record<string, string>): Promise<PhpResponse>;
  /** WordPress's debug log (PHP's errors, warnings and deprecations) so far. */
  debugLog(): string;
  close(): void;
}

export async function openSite(
  php: Php,
  coreDir: string,
  installed: InstalledSite,
  pluginFile: string,
): Promise<VersionSite> {
  const dir = mkdtempSync(join(tmpdir(), 'entra-wp-sync-php-'));
  cpSync(join(installed.dir, 'etc'), join(dir, 'etc'), { recursive: true });
  cpSync(join(installed.dir, 'site'), join(dir, 'site'), { recursive: true });
  rmSync(join(dir, 'site', 'debug.log'), { force: true });
  cpSync(pluginFile, join(dir, 'site', 'wp-content', 'mu-plugins', 'entra-wp-sync.php'));
  await mountSite(php, coreDir, dir);
  const handler = new phpWasm.PHPRequestHandler({
    php,
    documentRoot: '/wordpress',
    absoluteUrl: siteUrl,
    cookieStore: false,
  });
  const log = join(dir, 'site', 'debug.log');
  return {
    php,
    get: (url, headers = {}) => handler.request({ url, headers }),
    debugLog: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    close: () => {
      php.exit();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function basicAuth(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}
