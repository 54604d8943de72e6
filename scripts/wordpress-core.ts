// The WordPress core a test bed runs: bookworm's own package (/usr/share/wordpress, 6.1) or a
// newer one from Debian's archive (trixie 6.8, sid 7.1), fetched with apt itself into a cache
// without touching the machine's apt sources, and made self-contained there.
//
//   node scripts/wordpress-core.ts [bookworm|trixie|sid] [--refresh]   prints the core directory
//
// Debian's package is pure PHP (it runs on bookworm's PHP 8.2), but some of its files are
// symlinks into other packages it depends on (php-getid3, libphp-phpmailer, libjs-*): those
// packages are fetched from the same suite too, and every link is replaced by the file it
// points at, so that the cached tree can be hard-linked into a test bed anywhere.
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SYSTEM_WORDPRESS = '/usr/share/wordpress';

/** Releases the test bed knows; bookworm is the machine's own package. */
export const wordpressReleases = ['bookworm', 'trixie', 'sid'] as const;
export type WordPressRelease = (typeof wordpressReleases)[number];

export interface WordPressCore {
  /** 'bookworm', 'trixie', 'sid', or null for a directory given by path. */
  release: WordPressRelease | null;
  /** The WordPress core directory (has wp-includes/version.php). */
  coreDir: string;
  /** $wp_version from wp-includes/version.php, e.g. '7.1.4'. */
  version: string;
  /** The Debian package it came from, e.g. '7.1.4+dfsg1-1' (null for a directory given by path). */
  packageVersion: string | null;
  /** 'system' (the machine's package), 'cache' (fetched before), 'fetched' (just now) or 'path'. */
  source: 'system' | 'cache' | 'fetched' | 'path';
}

/** What the cache records next to a fetched core (`<cache>/<release>/core.json`). */
interface CoreRecord {
  release: WordPressRelease;
  version: string;
  packageVersion: string;
  /** Other packages fetched for the files the core links to: name → version. */
  libraries: Record<string, string>;
  /** Links replaced by the file they pointed at. */
  resolvedLinks: number;
  /** Links removed: Debian's config (/etc/wordpress) or targets no fetched package has. */
  droppedLinks: string[];
  fetchedAt: string;
}

/** Where fetched cores live: ~/.cache/entra-wp-sync/wordpress/<release>/. */
export function wordpressCacheDir(): string {
  return process.env.ENTRA_WP_SYNC_WORDPRESS_CACHE || join(homedir(), '.cache', 'entra-wp-sync', 'wordpress');
}

export function isWordPressRelease(name: string): name is WordPressRelease {
  return (wordpressReleases as readonly string[]).includes(name);
}

/** $wp_version of a core directory; throws when it is not one. */
export function readWordPressVersion(coreDir: string): string {
  const file = join(coreDir, 'wp-includes', 'version.php');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${coreDir} is not a WordPress core directory: ${file} cannot be read.`);
  }
  const match = /\$wp_version\s*=\s*'([^']+)'/.exec(text);
  if (!match?.[1]) throw new Error(`No $wp_version in ${file}.`);
  return match[1];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd?: string): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error) => resolveRun({ code: -1, stdout: '', stderr: error.message }));
    child.once('close', (code) =>
      resolveRun({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

const shellQuote = (arg: string): string =>
  /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
const commandLine = (command: string, args: string[]): string => [command, ...args].map(shellQuote).join(' ');

/** The machine's Debian archive (as apt sees its sources), unless ENTRA_WP_SYNC_DEBIAN_MIRROR names one. */
async function debianMirror(): Promise<string> {
  const override = process.env.ENTRA_WP_SYNC_DEBIAN_MIRROR;
  if (override) return override.replace(/\/+$/, '');
  const targets = await run('apt-get', [
    'indextargets',
    '--format',
    '$(TARGET_OF) $(IDENTIFIER) $(COMPONENT) $(RELEASE) $(SITE)',
  ]);
  for (const line of targets.stdout.split('\n')) {
    const [of, identifier, component, release, site] = line.trim().split(' ');
    // The main archive: not -security, -updates, -backports (their layouts differ).
    const mainArchive = of === 'deb' && identifier === 'Packages' && component === 'main';
    if (mainArchive && release && !release.includes('-') && site) return site.replace(/\/+$/, '');
  }
  throw new Error(
    'Cannot tell which Debian archive this machine uses: `apt-get indextargets` lists no main archive ' +
      '(run `apt-get update` first, or set ENTRA_WP_SYNC_DEBIAN_MIRROR to the archive URL).',
  );
}

/** apt with a private sources list, lists and cache under `aptDir`; the machine's apt is left alone. */
function aptOptions(aptDir: string): string[] {
  const options = [
    `Dir::Etc::SourceList=${join(aptDir, 'sources.list')}`,
    'Dir::Etc::SourceParts=/dev/null',
    `Dir::State::Lists=${join(aptDir, 'lists')}`,
    `Dir::Cache=${join(aptDir, 'cache')}`,
    // Only the private lists count: not the machine's installed packages (bookworm's wordpress).
    'Dir::State::status=/dev/null',
    'Acquire::Languages=none',
  ];
  // The _apt user cannot reach a cache under root's home; root downloads itself, quietly.
  if (process.getuid?.() === 0) options.push('APT::Sandbox::User=root');
  return options.flatMap((option) => ['-o', option]);
}

function walk(dir: string, visit: (path: string) => void): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) visit(path);
    else if (entry.isDirectory()) walk(path, visit);
  }
}

/**
 * Replaces each symlink under `coreDir` (inside the extracted `root`) by a copy of what it
 * points at. Links into /etc/wordpress (Debian's config: .htaccess) are dropped, absolute
 * links elsewhere (wp-includes/certificates/ca-bundle.crt → the machine's CA bundle) are kept
 * when their target exists here, and links no fetched package satisfies are dropped.
 */
function resolveLinks(root: string, coreDir: string): { resolved: number; dropped: string[] } {
  let resolved = 0;
  const dropped: string[] = [];
  const links: string[] = [];
  walk(coreDir, (path) => links.push(path));
  for (const link of links) {
    const target = readlinkSync(link);
    const name = relative(coreDir, link);
    if (isAbsolute(target)) {
      if (target.startsWith('/etc/wordpress/') || !existsSync(target)) {
        rmSync(link);
        dropped.push(`${name} -> ${target}`);
      }
      continue;
    }
    let real: string;
    try {
      real = realpathSync(join(dirname(link), target));
    } catch {
      rmSync(link);
      dropped.push(`${name} -> ${target}`);
      continue;
    }
    if (real !== root && !real.startsWith(root + sep)) {
      rmSync(link);
      dropped.push(`${name} -> ${target} (outside the package)`);
      continue;
    }
    rmSync(link);
    cpSync(real, link, { recursive: true, dereference: true });
    resolved++;
  }
  return { resolved, dropped };
}

/** The packages of a Depends field that carry files the core links to (libraries), not services or PHP extensions. */
function libraryDepends(depends: string): string[] {
  return depends
    .split(',')
    .map((alternatives) => alternatives.trim().split(/\s*\|\s*/)[0] ?? '')
    .map((dependency) => dependency.split(/[\s(:]/)[0] ?? '')
    .filter((name) => /^(libjs-|libphp-|php-getid3$)/.test(name))
    .filter((name, index, names) => names.indexOf(name) === index);
}

async function debField(deb: string, field: string): Promise<string> {
  const result = await run('dpkg-deb', ['-f', deb, field]);
  return result.stdout.trim();
}

async function fetchCore(release: Exclude<WordPressRelease, 'bookworm'>, log: (text: string) => void) {
  const releaseDir = join(wordpressCacheDir(), release);
  const work = join(releaseDir, `.fetch-${process.pid}-${Date.now()}`);
  const aptDir = join(work, 'apt');
  const debs = join(work, 'debs');
  const root = join(work, 'root');
  for (const dir of ['lists/partial', 'cache/archives/partial'])
    mkdirSync(join(aptDir, dir), { recursive: true });
  mkdirSync(debs, { recursive: true });
  mkdirSync(root, { recursive: true });
  try {
    const mirror = await debianMirror();
    const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
    const signedBy = existsSync(keyring) ? ` [signed-by=${keyring}]` : '';
    writeFileSync(join(aptDir, 'sources.list'), `deb${signedBy} ${mirror} ${release} main\n`);
    const options = aptOptions(aptDir);
    const apt = async (command: string, args: string[], what: string): Promise<Run> => {
      const result = await run(command, [...options, ...args], debs);
      if (result.code !== 0) {
        throw new Error(
          `Fetching WordPress from Debian ${release} failed at ${what} (${command} exited with ${result.code}).\n` +
            `The command (sources list: ${join(aptDir, 'sources.list')}, "deb ${mirror} ${release} main"):\n` +
            `  ${commandLine(command, [...options, ...args])}\n${result.stderr.trim() || result.stdout.trim()}\n` +
            'Another Debian archive can be named with ENTRA_WP_SYNC_DEBIAN_MIRROR (default: the one apt uses here).',
        );
      }
      return result;
    };
    log(`Fetching WordPress from Debian ${release} into ${releaseDir} (once): apt-get update…`);
    // --error-on=any: an index that cannot be fetched fails here, not as "no such package" later.
    await apt('apt-get', ['-q', '--error-on=any', 'update'], 'apt-get update');
    const shown = await apt(
      'apt-cache',
      ['show', '--no-all-versions', 'wordpress'],
      'apt-cache show wordpress',
    );
    const depends = /^Depends: (.*)$/m.exec(shown.stdout)?.[1] ?? '';
    const libraries = libraryDepends(depends);
    log(`apt-get download wordpress ${libraries.join(' ')}…`);
    await apt('apt-get', ['-q', 'download', 'wordpress', ...libraries], 'apt-get download');
    const files = readdirSync(debs).filter((name) => name.endsWith('.deb'));
    const record: CoreRecord = {
      release,
      version: '',
      packageVersion: '',
      libraries: {},
      resolvedLinks: 0,
      droppedLinks: [],
      fetchedAt: new Date().toISOString(),
    };
    for (const file of files) {
      const deb = join(debs, file);
      const extracted = await run('dpkg-deb', ['-x', deb, root]);
      if (extracted.code !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${extracted.stderr.trim()}`);
      const name = await debField(deb, 'Package');
      const version = await debField(deb, 'Version');
      if (name === 'wordpress') record.packageVersion = version;
      else record.libraries[name] = version;
    }
    const extractedCore = join(root, 'usr', 'share', 'wordpress');
    if (!record.packageVersion || !existsSync(extractedCore))
      throw new Error(
        `Debian ${release}'s wordpress package has no usr/share/wordpress (fetched: ${files.join(', ')}).`,
      );
    const links = resolveLinks(realpathSync(root), extractedCore);
    record.resolvedLinks = links.resolved;
    record.droppedLinks = links.dropped;
    record.version = readWordPressVersion(extractedCore);
    const core = join(releaseDir, 'wordpress');
    try {
      renameSync(extractedCore, core);
    } catch (error) {
      // Another process fetched the same release meanwhile: use that one.
      if (!existsSync(join(core, 'wp-includes', 'version.php'))) throw error;
    }
    if (!existsSync(join(releaseDir, 'core.json')))
      writeFileSync(join(releaseDir, 'core.json'), `${JSON.stringify(record, null, 2)}\n`);
    log(
      `WordPress ${record.version} (${release}, package ${record.packageVersion}) is in ${core}` +
        (links.dropped.length > 0 ? `; links dropped: ${links.dropped.join(', ')}` : ''),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function cachedCore(release: Exclude<WordPressRelease, 'bookworm'>): WordPressCore | undefined {
  const releaseDir = join(wordpressCacheDir(), release);
  const coreDir = join(releaseDir, 'wordpress');
  try {
    const record = JSON.parse(readFileSync(join(releaseDir, 'core.json'), 'utf8')) as CoreRecord;
    if (!statSync(coreDir).isDirectory()) return undefined;
    return {
      release,
      coreDir,
      version: readWordPressVersion(coreDir),
      packageVersion: record.packageVersion,
      source: 'cache',
    };
  } catch {
    return undefined;
  }
}

export interface EnsureOptions {
  /** Fetch again even when the cache has the release (the archive moves on). */
  refresh?: boolean;
  /** Progress lines (default: stderr). */
  log?: (text: string) => void;
}

/**
 * The core directory of a release (or of a directory given by path): bookworm is the
 * machine's own package; trixie and sid are fetched from Debian once and cached.
 */
export async function ensureWordPressCore(
  releaseOrPath: string,
  options: EnsureOptions = {},
): Promise<WordPressCore> {
  const log = options.log ?? ((text: string) => process.stderr.write(`${text}\n`));
  if (releaseOrPath.includes('/')) {
    const coreDir = resolve(releaseOrPath);
    // A release's own directory, given by path (as a test bed gets it), keeps its name.
    if (coreDir === SYSTEM_WORDPRESS) return ensureWordPressCore('bookworm', { log });
    for (const release of wordpressReleases) {
      if (release !== 'bookworm' && coreDir === join(wordpressCacheDir(), release, 'wordpress')) {
        const cached = cachedCore(release);
        if (cached) return cached;
      }
    }
    return {
      release: null,
      coreDir,
      version: readWordPressVersion(coreDir),
      packageVersion: null,
      source: 'path',
    };
  }
  if (!isWordPressRelease(releaseOrPath)) {
    throw new Error(
      `Unknown WordPress release '${releaseOrPath}': use one of ${wordpressReleases.join(', ')}, or a core directory's path.`,
    );
  }
  const release = releaseOrPath;
  if (release === 'bookworm') {
    if (!existsSync(join(SYSTEM_WORDPRESS, 'wp-includes', 'version.php'))) {
      throw new Error(
        `Debian's WordPress is not installed (${SYSTEM_WORDPRESS}). Run as root: apt-get install -y --no-install-recommends wordpress`,
      );
    }
    // dpkg-query's own ${field} syntax, not a template.
    const status = await run('dpkg-query', ['-W', ['-f=$', '{Version}'].join(''), 'wordpress']);
    return {
      release,
      coreDir: SYSTEM_WORDPRESS,
      version: readWordPressVersion(SYSTEM_WORDPRESS),
      packageVersion: status.code === 0 ? status.stdout.trim() : null,
      source: 'system',
    };
  }
  if (!options.refresh) {
    const cached = cachedCore(release);
    if (cached) return cached;
  }
  const releaseDir = join(wordpressCacheDir(), release);
  if (options.refresh) {
    rmSync(join(releaseDir, 'core.json'), { force: true });
    rmSync(join(releaseDir, 'wordpress'), { recursive: true, force: true });
  }
  // A half-written cache (no core.json) is fetched again.
  if (existsSync(join(releaseDir, 'wordpress')) && !existsSync(join(releaseDir, 'core.json')))
    rmSync(join(releaseDir, 'wordpress'), { recursive: true, force: true });
  await fetchCore(release, log);
  const fetched = cachedCore(release);
  if (!fetched) throw new Error(`Fetched WordPress ${release}, but ${releaseDir} holds no usable core.`);
  return { ...fetched, source: 'fetched' };
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  const refresh = args.includes('--refresh');
  const names = args.filter((arg) => arg !== '--refresh');
  if (names.length === 0 || names.some((name) => name === '-h' || name === '--help')) {
    process.stderr.write(
      `usage: node scripts/wordpress-core.ts <${wordpressReleases.join('|')}|path>... [--refresh]\n` +
        `Prints each release's WordPress core directory (fetching trixie and sid into ${wordpressCacheDir()} once).\n`,
    );
    process.exit(names.length === 0 ? 2 : 0);
  }
  try {
    for (const name of names) {
      const core = await ensureWordPressCore(name, { refresh });
      process.stderr.write(`${name}: WordPress ${core.version} (${core.source})\n`);
      process.stdout.write(`${core.coreDir}\n`);
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
