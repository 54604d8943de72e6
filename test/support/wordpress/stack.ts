// Starts a real WordPress (MariaDB + PHP-FPM + nginx) under one temp dir, with N independent sites.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWordPressCore } from '../../../scripts/wordpress-core.ts';
import { createStackClient, runPhpForSite, runSqlOnSocket } from './client.ts';
import { adminCredentials, editorCredentials, installPhp } from './configs.ts';
import {
  buildWordPressTree,
  checked,
  makeLayout,
  mariadbService,
  nginxService,
  phpFpmService,
} from './layout.ts';
import { canConnect, registerCleanup, type Service, startWatchdog } from './processes.ts';
import type {
  StartWordPressStackOptions,
  WordPressSite,
  WordPressStack,
  WordPressStackDescriptor,
} from './types.ts';

let running: Promise<WordPressStack> | undefined;

/**
 * The release (or core directory) whole-suite runs use: ENTRA_WP_SYNC_TEST_WORDPRESS, by
 * default sid's, the current WordPress release (older ones are compatibility runs).
 */
export const defaultTestWordPressRelease = 'sid';

export function testWordPressRelease(): string {
  return process.env.ENTRA_WP_SYNC_TEST_WORDPRESS || defaultTestWordPressRelease;
}

/**
 * Starts the stack, or returns the one this process already started (options of a second
 * call are then ignored). Stop it with `stop()`; it is also killed when the process exits.
 */
export function startWordPressStack(options: StartWordPressStackOptions = {}): Promise<WordPressStack> {
  running ??= start(options).catch((error: unknown) => {
    running = undefined;
    throw error;
  });
  return running;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function start(options: StartWordPressStackOptions): Promise<WordPressStack> {
  const began = performance.now();
  const timings: Record<string, number> = {};
  const time = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };

  const core = await time('core', () => ensureWordPressCore(options.coreDir ?? testWordPressRelease()));
  if (core.release !== defaultTestWordPressRelease) {
    // Not the default: say which one, so a run's log shows what it was tested against.
    process.stderr.write(`WordPress test bed: WordPress ${core.version} (${core.release ?? core.coreDir})\n`);
  }
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'entra-wp-'));
  for (const sub of [
    'run',
    'logs',
    'opcache',
    'nginx/client_body',
    'nginx/fastcgi',
    'nginx/proxy',
    'nginx/uwsgi',
    'nginx/scgi',
  ]) {
    mkdirSync(join(root, sub), { recursive: true });
  }
  const ports = await Promise.all(Array.from({ length: Math.max(1, options.sites ?? 1) }, freePort));
  const layout = makeLayout(root, ports, options.debug ?? false, core.coreDir, await freePort());
  const services: { mariadb?: Service; phpFpm?: Service; nginx?: Service } = {};
  let stopped = false;

  // Process groups of live services, for the watchdog (cleans up if we are SIGKILLed).
  const pgidFile = join(root, 'run', 'service-pgids');
  const recordServices = (): void => {
    const pids = Object.values(services).flatMap((service) => (service?.running ? [service.child.pid] : []));
    try {
      writeFileSync(pgidFile, `${pids.join('\n')}\n`);
    } catch {
      // Root already removed.
    }
  };
  const watchdog = startWatchdog(root, pgidFile, options.keepRoot ?? false);
  const killAll = (): void => {
    watchdog.kill('SIGKILL');
    for (const service of Object.values(services)) service?.kill();
    if (!options.keepRoot) rmSync(root, { recursive: true, force: true });
  };
  const unregister = registerCleanup(killAll);
  const launch = (service: Service): Service => {
    void service.exited.then(() => {
      if (!stopped) recordServices();
    });
    return service;
  };

  const startDatabase = async (): Promise<void> => {
    if (services.mariadb?.running) return;
    const service = launch(mariadbService(layout));
    services.mariadb = service;
    recordServices();
    await service.waitUntil('accepting connections', () => canConnect(layout.mariadbSocket), 30_000);
  };
  const startPhpFpm = async (): Promise<void> => {
    if (services.phpFpm?.running) return;
    const service = launch(phpFpmService(layout));
    services.phpFpm = service;
    recordServices();
    await service.waitUntil('listening', () => canConnect(layout.phpFpmSocket));
  };

  const descriptor: WordPressStackDescriptor = {
    root,
    wordpress: {
      version: core.version,
      release: core.release,
      packageVersion: core.packageVersion,
      coreDir: core.coreDir,
    },
    wordpressDir: layout.wordpressDir,
    mariadbSocket: layout.mariadbSocket,
    templateDb: layout.templateDb,
    runPhpScript: join(root, 'run-php.php'),
    sites: [],
    network: {
      url: `http://127.0.0.1:${layout.network.port}`,
      secondPath: layout.network.secondPath,
      dbName: layout.network.dbName,
    },
    logs: layout.logs,
  };

  try {
    const database = (async () => {
      await time('mariadbInit', () =>
        checked(
          'mariadb-install-db',
          [
            '--no-defaults',
            `--datadir=${join(root, 'mariadb')}`,
            '--auth-root-authentication-method=normal',
            '--skip-test-db',
            ...(layout.isRoot ? ['--user=root'] : []),
          ],
          'mariadb-install-db',
          layout.logs.mariadb,
        ),
      );
      await time('mariadbStart', startDatabase);
      const user = `'${layout.dbUser}'@'localhost'`;
      await runSqlOnSocket(
        layout.mariadbSocket,
        `CREATE USER ${user} IDENTIFIED BY '${layout.dbPassword}'; GRANT ALL ON *.* TO ${user};
         CREATE DATABASE ${layout.templateDb};`,
      );
    })();
    const web = time('webStart', async () => {
      await buildWordPressTree(layout);
      await startPhpFpm();
      const nginx = launch(nginxService(layout));
      services.nginx = nginx;
      recordServices();
      for (const port of [...layout.sites.map((site) => site.port), layout.network.port])
        await nginx.waitUntil(`listening on ${port}`, () => canConnect(port));
    });
    await Promise.all([database, web]);

    const installed = await time('install', () =>
      runPhpForSite(descriptor, 'template', installPhp, { WP_TESTBED_INSTALLING: '1' }),
    );
    const passwords = JSON.parse(installed.slice(installed.indexOf('{'))) as {
      appPassword: string;
      editorAppPassword: string;
    };
    descriptor.sites = layout.sites.map(
      (site): WordPressSite => ({
        index: site.index,
        url: `http://127.0.0.1:${site.port}`,
        restUrl: `http://127.0.0.1:${site.port}/wp-json/`,
        adminUser: adminCredentials.user,
        adminPassword: adminCredentials.password,
        appPassword: passwords.appPassword,
        editorUser: editorCredentials.user,
        editorPassword: editorCredentials.password,
        editorAppPassword: passwords.editorAppPassword,
        dbName: site.dbName,
      }),
    );
  } catch (error) {
    unregister();
    killAll();
    throw error;
  }

  const descriptorFile = join(root, 'stack.json');
  writeFileSync(descriptorFile, `${JSON.stringify(descriptor, null, 2)}\n`);
  const client = createStackClient(descriptor);
  await time('firstReset', async () => {
    for (const site of descriptor.sites) await client.resetSite(site.index);
  });
  timings.total = Math.round(performance.now() - began);

  const stack: WordPressStack = {
    ...client,
    descriptorFile,
    timings,
    async restartPhpFpm() {
      await services.phpFpm?.stop();
      await startPhpFpm();
    },
    async stopPhpFpm() {
      await services.phpFpm?.stop();
    },
    startPhpFpm,
    async stopDatabase() {
      await services.mariadb?.stop(30_000);
    },
    startDatabase,
    async stop() {
      if (stopped) return;
      stopped = true;
      unregister();
      watchdog.kill('SIGKILL');
      await Promise.all([services.nginx?.stop(), services.phpFpm?.stop()]);
      // The data dir is thrown away: no need for a clean InnoDB shutdown.
      await services.mariadb?.stop(30_000, options.keepRoot ? 'SIGTERM' : 'SIGKILL');
      if (!options.keepRoot) rmSync(root, { recursive: true, force: true });
      running = undefined;
    },
  };
  return stack;
}
