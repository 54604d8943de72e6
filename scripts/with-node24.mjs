#!/usr/bin/env node
// `npm test`, `npm run demo` and `npm run bench` start here, so that the README's two
// commands work on a fresh machine: plain JavaScript that any Node can run, which
// (1) re-runs the command under Node 24 from the npm registry when this Node is older
// (cached, once), and (2) when the command needs the WordPress test bed, makes sure
// Debian's packages are there, installing them as root or saying what to run.
//
//   node scripts/with-node24.mjs [--wordpress] <command> [args...]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Debian 12 packages of the test bed (nginx, PHP-FPM, MariaDB, WordPress), the static
 * analysis test/wordpress-testbed/plugin-source.test.ts runs on the plugin (phpmd, phpcs),
 * and the browser test/browser/ drives through playwright-core (Debian's chromium, so no
 * browser is downloaded at run time).
 */
export const wordpressPackages = [
  'nginx',
  'php8.2-fpm',
  'php8.2-cli',
  'php8.2-mysql',
  'php8.2-gd',
  'php8.2-curl',
  'php8.2-xml',
  'php8.2-mbstring',
  'php8.2-intl',
  'mariadb-server',
  'wordpress',
  'openssl',
  'phpmd',
  'php-codesniffer',
  'chromium',
];

const say = (text) => process.stderr.write(`${text}\n`);

function fail(text) {
  say(text);
  process.exit(1);
}

function nodeDirectory() {
  return process.env.ENTRA_WP_SYNC_NODE_DIR || join(homedir(), '.cache', 'entra-wp-sync', 'node24');
}

/** The bin directory of a Node 24 to put first on PATH, or undefined when this one will do. */
function node24Bin() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 24) return undefined;
  const directory = nodeDirectory();
  const bin = join(directory, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'node'))) {
    say(
      `Node ${process.versions.node} is older than 24: installing Node 24 from the npm registry into ${directory} (once).`,
    );
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const install = spawnSync(
      npm,
      [
        'install',
        '--prefix',
        directory,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        'node@24',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (install.status !== 0 || !existsSync(join(bin, 'node'))) {
      fail(
        `Could not install Node 24. Install it yourself (https://nodejs.org) or run: npm install --prefix ${directory} node@24`,
      );
    }
  }
  return bin;
}

function missingPackages() {
  // dpkg-query's own ${field} syntax, not a template.
  const format = ['-f=$', '{Package} $', '{Status}\n'].join('');
  const query = spawnSync('dpkg-query', ['-W', format, ...wordpressPackages], {
    encoding: 'utf8',
  });
  if (query.error) return undefined; // not a Debian-like system
  const installed = new Set(
    query.stdout
      .split('\n')
      .filter((line) => line.endsWith('install ok installed'))
      .map((line) => line.split(' ')[0]),
  );
  return wordpressPackages.filter((name) => !installed.has(name));
}

function ensureWordPressStack() {
  const missing = missingPackages();
  if (missing === undefined) {
    fail(
      "The WordPress test bed needs Debian's (or Ubuntu's) nginx, PHP-FPM, MariaDB and WordPress packages, and this machine has no dpkg. Run the demo and the tests on Debian 12 or Ubuntu (a VM or container is fine).",
    );
  }
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    fail(`The WordPress test bed needs Debian packages that are missing here. Run as root: ${command}`);
  }
  say(`Installing the WordPress test bed's Debian packages (once): ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env };
  const update = spawnSync('apt-get', ['update', '-qq'], quiet);
  const install =
    update.status === 0
      ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], quiet)
      : update;
  if (install.status !== 0) fail(`Installing the packages failed. Run as root: ${command}`);
}

const args = process.argv.slice(2);
const needsWordPress = args[0] === '--wordpress';
if (needsWordPress) args.shift();
if (args.length === 0) fail('usage: node scripts/with-node24.mjs [--wordpress] <command> [args...]');

const bin = node24Bin();
if (needsWordPress) ensureWordPressStack();
const localBin = join(process.cwd(), 'node_modules', '.bin');
const path = [bin, localBin, process.env.PATH].filter(Boolean).join(delimiter);
const [command, ...rest] = args;
const executable = command === 'node' && bin ? join(bin, 'node') : command;
const child = spawn(executable, rest, { stdio: 'inherit', env: { ...process.env, PATH: path } });
// The command stops itself gracefully on a signal; pass it on and wait for it.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => fail(`Could not start ${command}: ${error.message}`));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1);
});
