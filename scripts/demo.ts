// `npm run demo`: the product end to end on this machine. Starts a real WordPress and a
// fake Entra tenant, previews the sync, applies it, runs it again, and stops cleanly
// (`npm run demo -- --keep` leaves WordPress up until Ctrl-C, to look around).
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoTenant } from '../test/fixtures/fake-graph/index.ts';
import {
  localSyncEnv,
  readResultRows,
  startLocalGraph,
  writeLocalConfig,
} from '../test/support/local-sync.ts';
import { startWordPressStack } from '../test/support/wordpress/index.ts';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const keep = process.argv.includes('--keep');
const app = {
  tenantId: 'c0ffee00-1234-4abc-8def-0123456789ab',
  clientId: 'dem0dem0-0000-4000-8000-000000000001'.replace(/m/g, 'e'),
  clientSecret: 'demo-secret',
};

const say = (text: string) => process.stdout.write(`${text}\n`);

// Reports stay in ./entra-wp-sync-out/demo-<time>/ for the user to read afterwards.
const directory = resolve('entra-wp-sync-out', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
await mkdir(directory, { recursive: true });
process.env.FAKE_GRAPH_TLS_DIR = join(directory, 'fake-graph-tls');

say('Starting a local WordPress (MariaDB, PHP-FPM, nginx on 127.0.0.1)…');
const stack = await startWordPressStack({ sites: 1 });
const site = stack.sites[0]!;
const tenant = createDemoTenant();
const graph = await startLocalGraph(tenant, app);
try {
  const configPath = join(directory, 'jobs.yaml');
  await writeLocalConfig(configPath, {
    graph,
    app,
    site,
    stateDirectory: join(directory, 'state'),
    jobs: [
      {
        name: 'demo',
        source: { users: {} },
        map: { meta: { department: 'department', job_title: 'jobTitle' } },
        roles: {
          default: 'subscriber',
          rules: [
            { group: 'Intranet Editors', role: 'editor' },
            { group: 'Authors', role: 'author' },
          ],
        },
        avatar: { enabled: true, size: '96x96' },
        actions: { delete: 'soft' },
        limits: { pageSize: 100, concurrency: 8 },
      },
    ],
  });
  const env = localSyncEnv(graph, site, app);
  // Asynchronous on purpose: the fake Graph answers from this very process.
  const run = async (label: string, args: string[]) => {
    say(`\n$ entra-wp-sync ${args.join(' ')}    # ${label}`);
    const started = Date.now();
    const child = spawn(process.execPath, [cli, ...args, '-c', configPath, '--quiet'], {
      env,
      stdio: 'inherit',
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    say(`(exit code ${status}: ${describeExit(status)})`);
    return { seconds: (Date.now() - started) / 1000 };
  };

  // The site decides which extra profile meta it accepts from the sync.
  await stack.runPhp(
    0,
    "update_option('entra_wp_sync_allowed_meta_keys', ['department', 'job_title']); echo 'ok';",
  );
  say(`Demo tenant: ${tenant.size} Entra users (guests, disabled accounts, a shared email, a B2C customer).`);
  await run('preview: plan and report, write nothing', [
    'run',
    '--dry-run',
    '--out',
    join(directory, 'preview'),
  ]);
  const apply = await run('apply', ['run', '--out', join(directory, 'apply')]);
  const applied = await readResultRows(join(directory, 'apply'));
  const created = applied.filter((row) => row.action === 'created').length;
  await run('again: nothing changed in Entra, so nothing is written', [
    'run',
    '--out',
    join(directory, 'again'),
  ]);

  const leavers = tenant.users().slice(20, 23);
  for (const leaver of leavers) tenant.removeUser(leaver.id);
  say(`\nIn Entra, ${leavers.map((leaver) => leaver.displayName).join(', ')} leave the company.`);
  await run('leavers are disabled (roles removed, sign-in blocked)', [
    'run',
    '--out',
    join(directory, 'leavers'),
  ]);

  say('\n--- summary.md of the apply run ---');
  say(await readFile(join(directory, 'apply', 'summary.md'), 'utf8'));
  say(
    `Created ${created} users in ${apply.seconds.toFixed(1)} s (${(created / apply.seconds).toFixed(0)} users/s, start-up included).`,
  );
  say(`Reports: ${directory}/{preview,apply,again,leavers}/ (results.csv, results.jsonl, summary.md)`);
  say(
    `WordPress: ${site.url}/wp-admin/users.php  user "${site.adminUser}", password "${site.adminPassword}"`,
  );
  if (keep) {
    say('WordPress stays up until you press Ctrl-C.');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  } else {
    say('Stopping (run `npm run demo -- --keep` to look around in WordPress first).');
  }
} finally {
  await graph.stop();
  await stack.stop();
  await rm(join(directory, 'fake-graph-tls'), { recursive: true, force: true });
}

function describeExit(code: number | null): string {
  switch (code) {
    case 0:
      return 'done';
    case 3:
      return 'finished, some users could not be synced — see the reasons above';
    default:
      return 'failed';
  }
}
