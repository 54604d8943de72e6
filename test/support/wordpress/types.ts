// Shapes shared by the WordPress test bed (stack owner) and its clients (test files).

/** One independent WordPress site of the stack: its own database, port and uploads. */
export interface WordPressSite {
  /** 0-based site index. */
  index: number;
  /** Base URL without trailing slash, e.g. http://127.0.0.1:40123 */
  url: string;
  /** REST root with trailing slash, e.g. http://127.0.0.1:40123/wp-json/ */
  restUrl: string;
  adminUser: string;
  adminPassword: string;
  /** Application password of adminUser (use with HTTP Basic auth). */
  appPassword: string;
  /** A user with role 'editor' (no edit_users / list_users). */
  editorUser: string;
  editorPassword: string;
  editorAppPassword: string;
  dbName: string;
}

/**
 * The stack's multisite network: a subdirectory install on its own port and database,
 * kept apart from `sites` (workers pick `sites[poolId % length]`). It is installed on the
 * first resetNetwork(), not at stack start, since few test files use it.
 */
export interface WordPressNetworkDescriptor {
  /** The main site's URL, e.g. http://127.0.0.1:40125 */
  url: string;
  /** The second site's path, e.g. '/second/'. */
  secondPath: string;
  dbName: string;
}

/** A freshly installed network: its two sites (main first) as sites the tests can use. */
export interface WordPressNetwork {
  main: WordPressSite;
  second: WordPressSite;
  /** Blog id of the second site. */
  secondBlogId: number;
}

/** Paths of the stack's logs, for error messages and debugging. */
export interface WordPressStackLogs {
  mariadb: string;
  phpFpm: string;
  phpErrors: string;
  nginxError: string;
  nginxAccess: string;
}

/** Which WordPress a stack runs (see scripts/wordpress-core.ts). */
export interface WordPressStackCore {
  /** $wp_version of the core, e.g. '6.1.9' or '7.1.4'. */
  version: string;
  /** The Debian release it came from ('bookworm', 'trixie', 'sid'), or null for a core given by path. */
  release: string | null;
  /** The Debian package version, e.g. '7.1.4+dfsg1-1' (null for a core given by path). */
  packageVersion: string | null;
  /** The core directory the stack's tree is hard-linked from. */
  coreDir: string;
}

/** Written as JSON to `<root>/stack.json`; everything a client process needs. */
export interface WordPressStackDescriptor {
  root: string;
  /** The WordPress core this stack runs. */
  wordpress: WordPressStackCore;
  wordpressDir: string;
  mariadbSocket: string;
  templateDb: string;
  /** PHP script run by runPhp(): loads wp-load.php for the site in WP_TESTBED_SITE. */
  runPhpScript: string;
  sites: WordPressSite[];
  network: WordPressNetworkDescriptor;
  logs: WordPressStackLogs;
}

/** What any process can do with a running stack. */
export interface WordPressStackClient {
  readonly descriptor: WordPressStackDescriptor;
  readonly sites: WordPressSite[];
  /** Restores the site's freshly installed database and empties its uploads. */
  resetSite(index: number): Promise<WordPressSite>;
  /** Runs PHP code (no `<?php` needed) with WordPress loaded for that site; resolves with stdout. */
  runPhp(index: number, phpCode: string): Promise<string>;
  /** Runs SQL through the mariadb client against that site's database; resolves with tab-separated output. */
  runSql(index: number, sql: string): Promise<string>;
  /** Installs the network afresh (about two seconds): its users, sites and options are new. */
  resetNetwork(): Promise<WordPressNetwork>;
  /** Runs PHP with WordPress loaded for the network site at `path` ('/' or the second site's). */
  runNetworkPhp(path: string, phpCode: string): Promise<string>;
}

/** The stack as seen by the process that started it. */
export interface WordPressStack extends WordPressStackClient {
  readonly descriptorFile: string;
  /** How long each start-up phase took, in milliseconds. */
  readonly timings: Readonly<Record<string, number>>;
  restartPhpFpm(): Promise<void>;
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
  stopPhpFpm(): Promise<void>;
  startPhpFpm(): Promise<void>;
  /** Stops every process the stack started and removes its root directory. */
  stop(): Promise<void>;
}

export interface StartWordPressStackOptions {
  /** Number of independent sites (default 1). */
  sites?: number;
  /** Directory to create the stack in (default: a fresh dir under os.tmpdir()). Removed by stop(). */
  root?: string;
  /** Turn on WP_DEBUG (errors go to the PHP error log). */
  debug?: boolean;
  /** Keep the root directory on stop() (for post-mortem debugging). */
  keepRoot?: boolean;
  /**
   * The WordPress core to run: a core directory's path or a release name ('bookworm', 'trixie',
   * 'sid'; see scripts/wordpress-core.ts, which fetches and caches the newer ones). Default: the
   * release in ENTRA_WP_SYNC_TEST_WORDPRESS, else sid's (the current release).
   */
  coreDir?: string;
}
