// Where the test bed puts things, the WordPress tree it builds, and how each service is launched.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Layout,
  networkSecondPath,
  nginxConf,
  phpFpmConf,
  runPhpScript,
  wpConfig,
  wpContentFiles,
} from './configs.ts';
import { runCommand, Service } from './processes.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Runs a command that must succeed; the error carries its output (also appended to `log`). */
export async function checked(command: string, args: string[], what: string, log?: string): Promise<void> {
  const result = await runCommand(command, args);
  if (result.code !== 0) {
    if (log) writeFileSync(log, result.stdout + result.stderr, { flag: 'a' });
    throw new Error(
      `${what} failed (${command} exited with ${result.code}):\n${result.stderr}${result.stdout}`,
    );
  }
}

export function makeLayout(
  root: string,
  ports: number[],
  debug: boolean,
  coreDir: string,
  networkPort: number,
): Layout {
  const logs = join(root, 'logs');
  return {
    root,
    coreDir,
    wordpressDir: join(root, 'wordpress'),
    pluginDir: join(repoRoot, 'wordpress-plugin'),
    mariadbSocket: join(root, 'run', 'mariadb.sock'),
    phpFpmSocket: join(root, 'run', 'php-fpm.sock'),
    templateDb: 'wp_template',
    dbUser: 'wordpress',
    dbPassword: 'wordpress-test-bed',
    isRoot: process.getuid?.() === 0,
    debug,
    sites: ports.map((port, index) => ({ index, port, dbName: `wp_site_${index}` })),
    network: { port: networkPort, dbName: 'wp_network', secondPath: networkSecondPath },
    logs: {
      mariadb: join(logs, 'mariadb.log'),
      phpFpm: join(logs, 'php-fpm.log'),
      phpErrors: join(logs, 'php-errors.log'),
      nginxError: join(logs, 'nginx-error.log'),
      nginxAccess: join(logs, 'nginx-access.log'),
    },
  };
}

/**
 * Symlinks of the copied tree, pointing where they pointed in `coreDir`: Debian's package links
 * into other packages relatively (wp-includes/ID3 → ../../../php/getid3), which the copy would
 * break. Links whose target is missing (Debian's /etc/wordpress/htaccess) are removed.
 */
function repointSymlinks(sourceDir: string, dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) repointSymlinks(join(sourceDir, entry.name), path);
    if (!entry.isSymbolicLink()) continue;
    const target = readlinkSync(path);
    const absolute = isAbsolute(target) ? target : resolve(sourceDir, target);
    unlinkSync(path);
    if (existsSync(absolute)) symlinkSync(absolute, path);
  }
}

/** Our own WordPress tree (hard links to the core's files, our wp-config.php and wp-content) and the service configs. */
export async function buildWordPressTree(layout: Layout): Promise<void> {
  const dir = layout.wordpressDir;
  const linked = await runCommand('cp', ['-al', layout.coreDir, dir]);
  if (linked.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    await checked('cp', ['-r', layout.coreDir, dir], 'Copying WordPress');
  }
  repointSymlinks(layout.coreDir, dir);
  // Never write into a hard-linked file: remove the links, then create files of our own.
  rmSync(join(dir, 'wp-config.php'), { force: true });
  rmSync(join(dir, 'wp-content'), { recursive: true, force: true });
  writeFileSync(join(dir, 'wp-config.php'), wpConfig(layout));
  for (const [path, content] of Object.entries(wpContentFiles(layout))) {
    const file = join(dir, 'wp-content', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  for (const key of [...layout.sites.map((site) => site.index), 'network'])
    mkdirSync(join(dir, 'wp-content', 'uploads', `site-${key}`), { recursive: true });
  writeFileSync(join(layout.root, 'run-php.php'), runPhpScript(layout));
  writeFileSync(join(layout.root, 'php-fpm.conf'), phpFpmConf(layout));
  writeFileSync(join(layout.root, 'nginx.conf'), nginxConf(layout));
}

export function mariadbService(layout: Layout): Service {
  const args = [
    '--no-defaults',
    `--datadir=${join(layout.root, 'mariadb')}`,
    `--socket=${layout.mariadbSocket}`,
    `--pid-file=${join(layout.root, 'run', 'mariadb.pid')}`,
    `--log-error=${layout.logs.mariadb}`,
    '--skip-networking',
    '--skip-log-bin',
    '--skip-name-resolve',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--innodb-buffer-pool-size=128M',
    '--innodb-log-file-size=64M',
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    '--max-connections=300',
  ];
  if (layout.isRoot) args.push('--user=root');
  return new Service({ name: 'mariadb', command: 'mariadbd', args, logFile: layout.logs.mariadb });
}

export function phpFpmService(layout: Layout): Service {
  const args = ['--nodaemonize', '--fpm-config', join(layout.root, 'php-fpm.conf')];
  if (layout.isRoot) args.push('--allow-to-run-as-root');
  return new Service({
    name: 'php-fpm',
    command: 'php-fpm8.2',
    args,
    logFile: join(layout.root, 'logs', 'php-fpm.stdout.log'),
    otherLogs: [layout.logs.phpFpm, layout.logs.phpErrors],
  });
}

export function nginxService(layout: Layout): Service {
  return new Service({
    name: 'nginx',
    command: 'nginx',
    args: [
      '-p',
      join(layout.root, 'nginx'),
      '-e',
      layout.logs.nginxError,
      '-c',
      join(layout.root, 'nginx.conf'),
    ],
    logFile: join(layout.root, 'logs', 'nginx.stdout.log'),
    otherLogs: [layout.logs.nginxError],
  });
}
