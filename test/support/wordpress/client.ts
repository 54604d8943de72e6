// Talking to a running test bed from any process: reset a site, run PHP or SQL against it.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { adminCredentials, editorCredentials, installNetworkPhp, populateNetworkPhp } from './configs.ts';
import { runCommand } from './processes.ts';
import type {
  WordPressNetwork,
  WordPressSite,
  WordPressStackClient,
  WordPressStackDescriptor,
} from './types.ts';

const quoteName = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

function siteOf(descriptor: WordPressStackDescriptor, index: number): WordPressSite {
  const site = descriptor.sites[index];
  if (!site) throw new Error(`No WordPress test site ${index} (the stack has ${descriptor.sites.length}).`);
  return site;
}

/** Runs SQL as the database root user; `database` may be omitted. Resolves with batch (TSV) output. */
export async function runSqlOnSocket(socket: string, sql: string, database?: string): Promise<string> {
  const args = ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch', '--skip-column-names'];
  if (database) args.push(database);
  const result = await runCommand('mariadb', args, { input: sql });
  if (result.code !== 0) {
    throw new Error(
      `mariadb exited with ${result.code}: ${result.stderr.trim()}\nSQL: ${sql.slice(0, 2000)}`,
    );
  }
  return result.stdout;
}

/** Runs PHP code with WordPress loaded for site `siteKey` (an index, 'template' or 'network'). */
export async function runPhpForSite(
  descriptor: WordPressStackDescriptor,
  siteKey: number | 'template' | 'network',
  phpCode: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<string> {
  const result = await runCommand(
    'php',
    [
      ...['-d', 'display_errors=stderr', '-d', 'log_errors=0', '-d', 'memory_limit=512M'],
      // A shared on-disk opcode cache makes loading WordPress ~3x faster (~90 ms).
      ...['-d', 'opcache.enable_cli=1', '-d', `opcache.file_cache=${join(descriptor.root, 'opcache')}`],
      ...['-d', 'opcache.file_cache_only=1', '-d', 'opcache.revalidate_freq=0'],
      descriptor.runPhpScript,
    ],
    { input: phpCode, env: { ...process.env, ...extraEnv, WP_TESTBED_SITE: String(siteKey) } },
  );
  if (result.code !== 0 || /PHP (Fatal|Parse) error/.test(result.stderr)) {
    throw new Error(
      `PHP for WordPress site ${siteKey} exited with ${result.code}.\n` +
        `stderr: ${result.stderr.trim()}\nstdout: ${result.stdout.trim().slice(0, 4000)}`,
    );
  }
  return result.stdout;
}

/** Creates a client for a running stack described by `descriptor`. */
export function createStackClient(descriptor: WordPressStackDescriptor): WordPressStackClient {
  let templateTables: Promise<string[]> | undefined;
  const listTemplateTables = (): Promise<string[]> => {
    templateTables ??= runSqlOnSocket(
      descriptor.mariadbSocket,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = '${descriptor.templateDb}' ORDER BY table_name;`,
    )
      .then((out) => out.split('\n').filter((line) => line !== ''))
      .catch((error: unknown) => {
        templateTables = undefined;
        throw error;
      });
    return templateTables;
  };

  return {
    descriptor,
    sites: descriptor.sites,

    async resetSite(index) {
      const site = siteOf(descriptor, index);
      const tables = await listTemplateTables();
      const db = quoteName(site.dbName);
      const template = quoteName(descriptor.templateDb);
      const statements = [`DROP DATABASE IF EXISTS ${db};`, `CREATE DATABASE ${db};`];
      for (const table of tables) {
        const name = quoteName(table);
        statements.push(`CREATE TABLE ${db}.${name} LIKE ${template}.${name};`);
        statements.push(`INSERT INTO ${db}.${name} SELECT * FROM ${template}.${name};`);
      }
      const uploads = join(descriptor.wordpressDir, 'wp-content', 'uploads', `site-${index}`);
      rmSync(uploads, { recursive: true, force: true });
      mkdirSync(uploads, { recursive: true });
      await runSqlOnSocket(descriptor.mariadbSocket, statements.join('\n'));
      return site;
    },

    runPhp(index, phpCode) {
      siteOf(descriptor, index);
      return runPhpForSite(descriptor, index, phpCode);
    },

    runSql(index, sql) {
      return runSqlOnSocket(descriptor.mariadbSocket, sql, siteOf(descriptor, index).dbName);
    },

    resetNetwork: () => installNetwork(descriptor),

    runNetworkPhp(path, phpCode) {
      // wp-config.php takes the request path from the environment in the CLI: that picks the site.
      return runPhpForSite(descriptor, 'network', phpCode, { REQUEST_URI: path });
    },
  };
}

/** Connects to a stack started by another process, from its descriptor file (`<root>/stack.json`). */
export function connectWordPressStack(descriptorFile: string): WordPressStackClient {
  const descriptor = JSON.parse(readFileSync(descriptorFile, 'utf8')) as WordPressStackDescriptor;
  return createStackClient(descriptor);
}

/** Installs the network into an empty database: as a single site, then as a network with a second site. */
async function installNetwork(descriptor: WordPressStackDescriptor): Promise<WordPressNetwork> {
  const { network } = descriptor;
  const db = quoteName(network.dbName);
  await runSqlOnSocket(descriptor.mariadbSocket, `DROP DATABASE IF EXISTS ${db}; CREATE DATABASE ${db};`);
  const uploads = join(descriptor.wordpressDir, 'wp-content', 'uploads', 'site-network');
  rmSync(uploads, { recursive: true, force: true });
  mkdirSync(uploads, { recursive: true });
  await runPhpForSite(descriptor, 'network', installNetworkPhp, { WP_TESTBED_INSTALLING: '1' });
  const out = await runPhpForSite(descriptor, 'network', populateNetworkPhp, { REQUEST_URI: '/' });
  const made = JSON.parse(out.slice(out.indexOf('{'))) as { appPassword: string; secondBlogId: number };
  const site = (url: string): WordPressSite => ({
    index: -1,
    url,
    restUrl: `${url}/wp-json/`,
    adminUser: adminCredentials.user,
    adminPassword: adminCredentials.password,
    appPassword: made.appPassword,
    // The network has no editor account; tests make the users they need.
    editorUser: editorCredentials.user,
    editorPassword: '',
    editorAppPassword: '',
    dbName: network.dbName,
  });
  return {
    main: site(network.url),
    second: site(`${network.url}${network.secondPath.replace(/\/$/, '')}`),
    secondBlogId: made.secondBlogId,
  };
}
