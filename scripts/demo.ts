// `npm run demo`: the product end to end on this machine. Starts a real WordPress and a
// fake Entra tenant, previews the sync, applies it, runs it again, and stops cleanly
// (`npm run demo -- --keep` leaves WordPress up until Ctrl-C, to look around).
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
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
// Relative, so that commands and paths fit an 80-column terminal.
const directory = relative(
  process.cwd(),
  resolve('entra-wp-sync-out', `demo-${new Date().toISOString().slice(0, 19).replace(/\D/g, '').slice(2)}`),
);
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
  const run = async (args: string[]) => {
    say(`\n$ entra-wp-sync ${args.join(' ')}`);
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
  const everyone = tenant.users();
  const guests = everyone.filter((user) => user.userType === 'Guest').length;
  const disabled = everyone.filter((user) => user.accountEnabled === false).length;
  section('1. The demo tenant');
  say(
    wrap(
      `${everyone.length} Entra users: ${everyone.length - guests - disabled} active members, ${guests} guests (the job ignores guests), ${disabled} disabled accounts, two people who share one mailbox, a B2C customer whose email is only in identities[], and a service account with an unusable username. Groups: "Intranet Editors" (6 members) become WordPress editors, "Authors" (20) authors, everyone else subscribers.`,
    ),
  );

  section('2. Preview: what would happen, nothing written');
  await run(['run', '--dry-run', '--out', join(directory, 'preview')]);
  await decisions(join(directory, 'preview'));

  section('3. The sync');
  const apply = await run(['run', '--out', join(directory, 'apply')]);
  const applied = await readResultRows(join(directory, 'apply'));
  const created = applied.filter((row) => row.action === 'created').length;
  await decisions(join(directory, 'apply'));
  say(`Created ${created} users in ${apply.seconds.toFixed(1)} s, start-up included.`);

  section('4. Changes in Entra');
  const members = everyone.filter((user) => user.userType !== 'Guest' && user.accountEnabled !== false);
  const leaver = members[40]!;
  const mover = members[41]!;
  tenant.removeUser(leaver.id);
  const joiner = tenant.addUser({
    id: 'd0d0d0d0-0002-4000-8000-000000000001',
    userPrincipalName: 'noor.joiner@contoso.com',
    mail: 'noor.joiner@contoso.com',
    givenName: 'Noor',
    surname: 'Joiner',
    displayName: 'Noor Joiner',
    department: 'Research',
  });
  const editors = tenant.transitiveMembers('4d0e0000-0000-4000-8000-00000000ed17').map((member) => member.id);
  tenant.setGroupMembers('4d0e0000-0000-4000-8000-00000000ed17', [...editors, mover.id]);
  say(`- ${leaver.displayName} leaves the company.`);
  say(`- ${joiner.displayName} joins.`);
  say(`- ${mover.displayName} moves into the "Intranet Editors" group.`);
  await run(['run', '--out', join(directory, 'changes')]);
  const changes = await readResultRows(join(directory, 'changes'));
  for (const person of [leaver, joiner, mover]) {
    const row = changes.find((candidate) => candidate.objectId === person.id);
    const fields = row?.fields ? ` (${String(row.fields)})` : '';
    say(`  ${String(person.displayName).padEnd(24)} ${String(row?.action ?? 'no row')}${fields}`);
  }
  await decisions(join(directory, 'changes'));

  section('5. The brake on mass removals');
  const leaving = members.slice(60, 100);
  for (const person of leaving) tenant.removeUser(person.id);
  say(
    wrap(
      `A filter typo, a deleted group or a bad day: ${leaving.length} people vanish from Entra at once. The job may remove at most 5% of the users it manages per run (safety.maxDeletes), so it removes no one and lists them:`,
    ),
  );
  await run(['run', '--out', join(directory, 'held')]);
  const heldSummary = await readFile(join(directory, 'held', 'summary.md'), 'utf8');
  const heldLine = heldSummary.split('\n').find((line) => line.includes('would be disabled'));
  if (heldLine) say(wrap(heldLine));
  say('A person checks the list, then approves exactly that list:');
  await run(['run', '--allow-deletes', String(leaving.length), '--out', join(directory, 'approved')]);
  await decisions(join(directory, 'approved'));

  section('6. Where to look');
  say(`Reports of every run: ${directory}/`);
  say('  summary.md   counts, held lists, errors by reason');
  say('  results.csv  one row per decision (results.jsonl: the same as JSON lines)');
  say(`WordPress: ${site.url}/wp-admin/users.php`);
  say(`  user "${site.adminUser}", password "${site.adminPassword}"`);
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

function section(title: string): void {
  say(`\n${title}\n${'-'.repeat(title.length)}`);
}

/** Text for an 80-column terminal. */
function wrap(text: string, width = 78): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** One line per decision kind of a run, with a few names, from its results.jsonl. */
async function decisions(outDirectory: string): Promise<void> {
  const rows = await readResultRows(outDirectory);
  const byAction = new Map<string, string[]>();
  for (const row of rows) {
    const names = byAction.get(String(row.action)) ?? [];
    names.push(String(row.wordpressLogin || row.userPrincipalName || row.email));
    byAction.set(String(row.action), names);
  }
  for (const [action, names] of byAction) {
    const line = `  ${action.padEnd(10)} ${String(names.length).padStart(4)}  e.g. ${names.slice(0, 2).join(', ')}`;
    say(line.length > 78 ? `${line.slice(0, 77)}…` : line);
  }
}

function describeExit(code: number | null): string {
  switch (code) {
    case 0:
      return 'done';
    case 3:
      return 'finished, some users could not be synced (see summary.md)';
    case 4:
      return 'held for a person to approve';
    default:
      return 'failed';
  }
}
