// `npm run bench`: how fast the sync is, measured against the real WordPress test bed
// and the fake Graph in one run on one site (issue 8's five measurements). Prints a
// table, writes bench/results.json and refreshes the table in README.md. Exits 0 when
// a target is missed: it is a measurement, and the misses are printed at the end.
//
// Environment: BENCH_USERS (10000), BENCH_BIG_USERS (100000) and BENCH_RAW_USERS (2000)
// for quick trials (results.json and README.md are then left alone); BENCH_PROFILE=1 adds
// CPU profiles of the initial sync (V8's of the tool, run from src/ so that functions
// keep their files; Excimer's of PHP-FPM when php-excimer is installed); BENCH_CLI=src
// runs src/cli/index.ts instead of a bundle built from it (adds Node's TypeScript loading
// to every run's time and memory); BENCH_KEEP=1 keeps each run's results and checkpoint;
// BENCH_ONLY=wordpress-state runs step 6 alone (seeding included, some 4 minutes),
// BENCH_ONLY=latency steps 7 and 8 (BENCH_LATENCY_USERS, 2000), BENCH_ONLY=big-initial
// the raw loop and steps 9 to 11; BENCH_CLI=path/to/cli.js measures another build of the CLI
// (the dist/cli.js of an earlier commit, for before/after figures).
// Only a default run writes results.json and README.md.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { bundleProduct } from '../scripts/bundle.ts';
import { type FakeGraph, FakeTenant, generateUsers } from '../test/fixtures/fake-graph/index.ts';
import { cliEntry } from '../test/support/cli-process.ts';
import { localSyncEnv, startLocalGraph } from '../test/support/local-sync.ts';
import { startWordPressStack, type WordPressStackClient } from '../test/support/wordpress/index.ts';
import { type CountingProxy, startCountingProxy } from './counting-proxy.ts';
import { type ProfileSummary, summarizeProfile } from './cpu-profile.ts';
import { type PhpProfileSummary, startPhpProfile } from './php-profile.ts';
import { type RawInsert, rawInsertUsers } from './raw-insert.ts';
import { type BenchReport, type BenchResult, renderMisses, renderTable, updateReadme } from './report.ts';
import { seedWordPress } from './seed.ts';
import { BenchTool, type ToolRun } from './tool.ts';
import { describeWaits } from './wait-time.ts';

const envNumber = (name: string, fallback: number) => Number(process.env[name] ?? fallback) || fallback;
const users = envNumber('BENCH_USERS', 10_000);
const bigUsers = envNumber('BENCH_BIG_USERS', 100_000);
const rawUsers = envNumber('BENCH_RAW_USERS', 2_000);
const latencyUsers = envNumber('BENCH_LATENCY_USERS', 2_000);
const changed = Math.min(1_000, users);
const profileInitial = process.env.BENCH_PROFILE === '1';
const only = process.env.BENCH_ONLY;
const alone = ['wordpress-state', 'latency', 'big-initial'];
if (only !== undefined && !alone.includes(only)) {
  process.stderr.write(
    `bench: BENCH_ONLY=${only} is no step; the ones that run alone: ${alone.join(', ')}.\n`,
  );
  process.exit(2);
}
const otherCli = process.env.BENCH_CLI?.endsWith('.js') ? process.env.BENCH_CLI : undefined;
const official =
  only === undefined &&
  users === 10_000 &&
  bigUsers === 100_000 &&
  rawUsers === 2_000 &&
  latencyUsers === 2_000 &&
  !profileInitial &&
  process.env.BENCH_CLI === undefined;
const app = {
  tenantId: 'b3ec0000-1234-4abc-8def-0123456789ab',
  clientId: 'b3ec0000-0000-4000-8000-000000000001',
  clientSecret: 'bench-secret',
};
const say = (text: string) => process.stderr.write(`${text}\n`);
const n = (value: number) => value.toLocaleString('en');
const began = performance.now();
const loadAtStart = loadavg()[0] ?? 0;
if (loadAtStart > 0.5)
  say(
    `bench: the machine is busy (load average ${loadAtStart.toFixed(2)}); numbers will be slower than usual.`,
  );

const directory = await mkdtemp(join(tmpdir(), 'entra-wp-sync-bench-'));
process.env.FAKE_GRAPH_TLS_DIR = join(directory, 'tls');
try {
  await bench();
} finally {
  if (process.env.BENCH_KEEP === '1') say(`bench: configs, results and checkpoints kept in ${directory}`);
  else await rm(directory, { recursive: true, force: true });
}

async function bench(): Promise<void> {
  let cli = otherCli ?? cliEntry;
  if (otherCli) say(`bench: measuring ${otherCli}`);
  else if (process.env.BENCH_CLI !== 'src') {
    say('bench: bundling the CLI from src/ (as `npm run build` does)…');
    await bundleProduct(directory, { cli: cliEntry });
    cli = join(directory, 'cli.js');
  }
  say('bench: starting WordPress (MariaDB, PHP-FPM, nginx) and the fake Graph…');
  const stack = await startWordPressStack({ sites: 1 });
  const site = stack.sites[0]!;
  const proxy = await startCountingProxy(site.url);
  const graphs: Array<{ stop(): Promise<void> }> = [];
  const runs: ToolRun[] = [];
  try {
    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      php: (await stack.runPhp(0, 'echo PHP_VERSION;')).trim(),
      mariadb: (await stack.runSql(0, 'SELECT VERSION();')).trim().split('\n').pop() ?? '',
      wordpress: (await stack.runPhp(0, "echo get_bloginfo('version');")).trim(),
      loadAtStart,
    };
    const results: BenchResult[] = [];
    const toolFor = async (name: string, tenant: FakeTenant) => {
      const graph = await startLocalGraph(tenant, app);
      graphs.push(graph);
      const tool = new BenchTool({ cli, directory, name, graph, app, site, stack, proxy, runs, say });
      return { tool, graph };
    };
    /** 100,000 users in Entra and, with SQL, in WordPress, as the sync would have created them. */
    const seedBig = async () => {
      say(`bench: 5. seeding ${n(bigUsers)} users into Entra and WordPress…`);
      await stack.resetSite(0);
      const bigTenant = new FakeTenant(generateUsers(bigUsers, 77));
      const seeded = await toolFor('big', bigTenant);
      await seeded.tool.writeConfig({ source: { users: {} }, actions: { delete: 'soft' } });
      await seedWordPress({
        stack,
        siteIndex: 0,
        configPath: seeded.tool.configPath,
        env: localSyncEnv(seeded.graph, site, app),
        tenant: bigTenant,
      });
      return seeded;
    };

    if (only === 'wordpress-state') {
      const seeded = await seedBig();
      results.push(await wordpressStateStep(seeded.tool, proxy));
      process.stdout.write(
        `\n${renderTable({ date: new Date().toISOString(), machine, results })}\n\n${renderRuns(runs)}\n\n${renderMisses({ date: '', machine, results })}\n`,
      );
      say(`bench: step 6 alone done in ${((performance.now() - began) / 1000).toFixed(0)} s.`);
      return;
    }

    if (only === 'latency') {
      results.push(...(await latencySteps(toolFor, stack)));
      process.stdout.write(
        `\n${renderTable({ date: new Date().toISOString(), machine, results })}\n\n${renderRuns(runs)}\n`,
      );
      return;
    }

    say(`bench: raw PHP wp_insert_user loop, ${n(rawUsers)} users…`);
    const raw = await rawInsertUsers(stack, rawUsers);
    const rawRate = raw.usersPerSecond;

    if (only === 'big-initial') {
      const big = await bigInitialStep(toolFor, stack, rawRate, undefined);
      results.push(big.result, timeBreakdown([big.run]), await passwordHashStep(stack));
      process.stdout.write(
        `\n${renderTable({ date: new Date().toISOString(), machine, results })}\n\n${renderRuns(runs)}\n`,
      );
      return;
    }

    const tenant = new FakeTenant(generateUsers(users, 2026));
    const { tool, graph } = await toolFor('main', tenant);
    await tool.writeConfig({ source: { users: {} }, actions: { delete: 'soft' } });

    // 1. Initial sync into an empty site.
    say(`bench: 1. initial sync of ${n(users)} users…`);
    const phpProfiler = profileInitial ? await startPhpProfile(stack) : undefined;
    if (profileInitial && !phpProfiler) say('bench: no PHP profile: install php-excimer for one.');
    const initial = await tool.run('initial', profileInitial ? { cpuProfile: true, cli: cliEntry } : {});
    const phpProfile = await phpProfiler?.stop();
    const created = initial.count('created');
    const initialRate = created / initial.seconds;
    const ratio = initialRate / rawRate;
    results.push({
      step: `1. initial sync of ${n(users)} users`,
      measured: `${initial.seconds.toFixed(1)} s, ${initialRate.toFixed(0)} users/s (${n(created)} created); raw PHP loop ${rawRate.toFixed(0)} users/s → ${ratio.toFixed(2)}×`,
      target: '≥ 2.0× raw PHP, < 90 s',
      pass: ratio >= 2 && initial.seconds < 90 && created === users,
      ...noteFor(initial, created === users ? '' : `${n(users - created)} users not created`),
      numbers: {
        seconds: initial.seconds,
        usersPerSecond: initialRate,
        rawUsers,
        rawSeconds: raw.seconds,
        rawUsersPerSecond: rawRate,
        ratio,
        created,
        graphRequests: initial.graphRequests,
        wordpressRequests: initial.wordpressRequests,
        peakRssMb: initial.peakRssMb,
        ...waitNumbers(initial),
      },
    });

    // 2. No-op resync: nothing changed in Entra.
    say('bench: 2. no-op resync…');
    const noop = await tool.run('noop');
    const share = noop.seconds / initial.seconds;
    results.push({
      step: `2. no-op resync of ${n(users)}`,
      measured: `${noop.wordpressWrites} writes, ${noop.graphRequests} Graph requests, ${noop.wordpressRequests} WordPress requests, ${noop.seconds.toFixed(1)} s (${(share * 100).toFixed(1)}% of 1)`,
      target: '0 writes, ≤ 12 Graph, ≤ 105 WordPress, ≤ 10% of 1',
      pass:
        noop.code === 0 &&
        noop.wordpressWrites === 0 &&
        noop.writes === 0 &&
        noop.graphRequests <= 12 &&
        noop.wordpressRequests <= 105 &&
        share <= 0.1,
      ...noteFor(noop),
      numbers: {
        writes: noop.wordpressWrites,
        graphRequests: noop.graphRequests,
        wordpressRequests: noop.wordpressRequests,
        seconds: noop.seconds,
        shareOfInitial: share,
      },
    });

    // 3. 1,000 changed users, written in batches, then (changed again) one request per user
    // with batching switched off. Both runs also read Entra and the WordPress index first;
    // the update rate is the updates over the time the proxy saw write requests in flight.
    say(`bench: 3. ${n(changed)} changed users, batched and with single requests…`);
    const changeUsers = (round: string) => {
      for (const user of tenant.users().slice(0, changed))
        tenant.updateUser(user.id, { displayName: `${user.givenName} ${user.surname} (${round})` });
    };
    changeUsers('batched');
    const batched = await tool.run('batched');
    changeUsers('single');
    const single = await tool.run('single', { env: { ENTRA_WP_SYNC_BATCH: 'off' } });
    const writeRate = (run: ToolRun) => run.count('updated') / Math.max(run.writeSeconds, 0.001);
    const speedup = writeRate(batched) / writeRate(single);
    const batchCalls = (run: ToolRun) => run.wordpressRoutes['POST /wp-json/batch/v1'] ?? 0;
    const batchIgnored = batchCalls(single) > 0;
    results.push({
      step: `3. ${n(changed)} changed users`,
      measured: `batched ${writeRate(batched).toFixed(0)} updates/s (${batched.count('updated')} in ${batched.writeSeconds.toFixed(1)} s of a ${batched.seconds.toFixed(1)} s run), single requests ${writeRate(single).toFixed(0)}/s (${single.count('updated')} in ${single.writeSeconds.toFixed(1)} s of a ${single.seconds.toFixed(1)} s run) → ${speedup.toFixed(1)}×; whole runs ${(single.seconds / batched.seconds).toFixed(1)}×`,
      target: '≥ 5× single-request updates',
      pass:
        speedup >= 5 &&
        !batchIgnored &&
        batched.count('updated') === changed &&
        single.count('updated') === changed,
      ...noteFor(
        batched,
        batchIgnored ? `ENTRA_WP_SYNC_BATCH=off was not honoured: ${batchCalls(single)} batch requests` : '',
        single,
      ),
      numbers: {
        batchedPerSecond: writeRate(batched),
        singlePerSecond: writeRate(single),
        speedup,
        batchedUpdated: batched.count('updated'),
        singleUpdated: single.count('updated'),
        batchedWriteSeconds: batched.writeSeconds,
        singleWriteSeconds: single.writeSeconds,
        batchedSeconds: batched.seconds,
        singleSeconds: single.seconds,
        wholeRunSpeedup: single.seconds / batched.seconds,
        batchedWordpressRequests: batched.wordpressRequests,
        singleWordpressRequests: single.wordpressRequests,
      },
    });

    // 4. Delta: the first delta run is a full cycle that keeps the delta link; then 10
    // changes in Entra (6 updated, 2 new, 2 deleted) and one measured run.
    say('bench: 4. delta run with 10 changes…');
    await tool.writeConfig({ source: { users: {}, delta: true }, actions: { delete: 'soft' } });
    const deltaFirst = await tool.run('delta-first');
    const people = tenant.users();
    const at = (share: number, count: number) =>
      people.slice(Math.floor(users * share), Math.floor(users * share) + count);
    for (const user of at(0.2, 6)) tenant.updateUser(user.id, { displayName: `${user.displayName} Jr` });
    for (const user of generateUsers(2, 4040, { domain: 'delta.contoso.com' })) tenant.addUser(user);
    for (const user of at(0.3, 2)) tenant.removeUser(user.id);
    const delta = await tool.run('delta');
    const outcome = `${delta.count('updated')} updated, ${delta.count('created')} created, ${delta.count('disabled')} disabled`;
    const expected =
      delta.count('updated') === 6 && delta.count('created') === 2 && delta.count('disabled') === 2;
    results.push({
      step: `4. delta run, 10 changes in ${n(users)}`,
      measured: `${delta.graphRequests} Graph requests, ${delta.wordpressRequests} WordPress requests, ${delta.seconds.toFixed(2)} s (${outcome})`,
      target: '≤ 3 Graph, ≤ 15 WordPress, < 3 s',
      pass:
        delta.code === 0 &&
        expected &&
        delta.graphRequests <= 3 &&
        delta.wordpressRequests <= 15 &&
        delta.seconds < 3,
      ...noteFor(delta, expected ? '' : 'expected 6 updated, 2 created, 2 disabled'),
      numbers: {
        graphRequests: delta.graphRequests,
        wordpressRequests: delta.wordpressRequests,
        seconds: delta.seconds,
        writes: delta.writes,
        firstDeltaRunSeconds: deltaFirst.seconds,
      },
    });
    // Leaves the stored delta link to this tenant's fake Graph.
    await graph.stop();
    graphs.splice(graphs.indexOf(graph), 1);

    // 5. Memory with 100,000 users on both sides: WordPress seeded with SQL, then a no-op run.
    const big = await seedBig();
    say(`bench: 5. no-op sync with ${n(bigUsers)} users on both sides…`);
    const memory = await big.tool.run('big');
    results.push({
      step: `5. peak RSS, ${n(bigUsers)} users in Entra and WordPress`,
      measured: `${memory.peakRssMb.toFixed(0)} MB (no-op run: ${memory.seconds.toFixed(1)} s, ${memory.writes} writes, ${memory.graphRequests} Graph and ${memory.wordpressRequests} WordPress requests)`,
      target: '< 256 MB',
      pass: memory.code === 0 && memory.peakRssMb < 256,
      ...noteFor(
        memory,
        memory.writes > 0 ? `${memory.writes} writes: the seeded users differ from the mapping` : '',
      ),
      numbers: {
        peakRssMb: memory.peakRssMb,
        seconds: memory.seconds,
        writes: memory.writes,
        graphRequests: memory.graphRequests,
        wordpressRequests: memory.wordpressRequests,
      },
    });

    results.push(await wordpressStateStep(big.tool, proxy));

    results.push(...(await latencySteps(toolFor, stack)));
    const bigInitial = await bigInitialStep(toolFor, stack, rawRate, ratio);
    results.push(bigInitial.result);
    results.push(timeBreakdown([initial, bigInitial.run]));
    results.push(await passwordHashStep(stack));

    const report: BenchReport & Record<string, unknown> = {
      date: new Date().toISOString(),
      machine,
      results,
      rawInsert: raw,
      runs: runs.map(describeRun),
      benchSeconds: (performance.now() - began) / 1000,
    };
    process.stdout.write(`\n${renderTable(report)}\n\n${renderRuns(runs)}\n${perUser(raw, initial)}\n`);
    if (profileInitial) {
      const profiles = {
        tool: initial.profile ? await summarizeProfile(initial.profile) : undefined,
        phpFpm: phpProfile,
      };
      const file = join(
        'entra-wp-sync-out',
        `bench-profile-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
      );
      await mkdir('entra-wp-sync-out', { recursive: true });
      await writeFile(file, `${JSON.stringify(profiles, null, 2)}\n`);
      process.stdout.write(`\n${renderProfiles(profiles)}\nThe profiles in full: ${file}\n`);
    }
    process.stdout.write(`\n${renderMisses(report)}\n`);
    if (official) {
      await writeFile(new URL('results.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
      await updateReadme(new URL('../README.md', import.meta.url), report);
      say('bench: wrote bench/results.json and the table in README.md.');
    } else {
      say('bench: a trial with other sizes or the source CLI; bench/results.json and README.md left alone.');
    }
    say(`bench: done in ${((performance.now() - began) / 1000).toFixed(0)} s.`);
  } finally {
    await proxy.close();
    for (const graph of graphs) await graph.stop();
    await stack.stop();
  }
}

/**
 * 6. A whole cycle over the 100,000 users of step 5 with state.backend: wordpress: what the
 * checkpoint saves upload. Each seen ID should go once (appended), not with every page.
 */
async function wordpressStateStep(tool: BenchTool, proxy: CountingProxy): Promise<BenchResult> {
  say(`bench: 6. a cycle over ${n(bigUsers)} users with state.backend: wordpress…`);
  await tool.writeConfig(
    { source: { users: {} }, actions: { delete: 'soft' } },
    { state: { backend: 'wordpress' } },
  );
  const run = await tool.run('big-wordpress-state');
  const saves = proxy.requests.filter(
    (request) => request.method === 'PUT' && request.route === '/entra-wp-sync/v1/state/bench',
  );
  const largest = Math.max(0, ...saves.map((request) => request.bytes));
  const total = saves.reduce((sum, request) => sum + request.bytes, 0);
  // One seen list: 100,000 object IDs of 36 characters, quoted and separated in JSON.
  const listBytes = bigUsers * 39;
  const kb = (bytes: number) => `${n(Math.round(bytes / 1024))} KB`;
  return {
    step: `6. checkpoint saves, ${n(bigUsers)} users, state.backend: wordpress`,
    measured: `${saves.length} saves; largest ${kb(largest)}, total ${kb(total)} (the seen list itself: ${kb(listBytes)}); ${run.seconds.toFixed(1)} s`,
    target: 'largest < 1 MB (PHP post_max_size 8 MB), total < 2× the seen list',
    pass: run.code === 0 && largest < 1024 * 1024 && total < 2 * listBytes,
    ...noteFor(run, run.writes > 0 ? `${run.writes} writes: the seeded users differ from the mapping` : ''),
    numbers: {
      saves: saves.length,
      largestBytes: largest,
      totalBytes: total,
      listBytes,
      seconds: run.seconds,
    },
  };
}

/** A note for a run that did not finish cleanly, plus `extra`. */
function noteFor(...parts: Array<ToolRun | string>): { note?: string } {
  const notes = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if (part.code !== 0) return `run "${part.label}" exited ${part.code}`;
      if (part.failed > 0) return `run "${part.label}": ${part.failed} failed rows`;
      return '';
    })
    .filter(Boolean);
  return notes.length > 0 ? { note: notes.join('; ') } : {};
}

function describeRun(run: ToolRun) {
  return {
    label: run.label,
    exitCode: run.code,
    seconds: run.seconds,
    peakRssMb: run.peakRssMb,
    cpuSeconds: { tool: run.toolCpuSeconds, ...run.servicesCpu },
    queries: run.queries,
    graphRoutes: run.graphRoutes,
    wordpressRoutes: run.wordpressRoutes,
    actions: run.actions,
    wordpressWrites: run.wordpressWrites,
    writeSeconds: run.writeSeconds,
    failed: run.failed,
  };
}

/** Where each run's time went: wall time against the CPU time of each process. */
function renderRuns(list: ToolRun[]): string {
  const lines = [
    'Where the time goes (CPU seconds of each process during the run; 2 cores = 2 s per second):',
  ];
  for (const run of list) {
    const cpu = Object.entries({ tool: run.toolCpuSeconds, ...run.servicesCpu })
      .map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`)
      .join(', ');
    const routes = Object.entries(run.wordpressRoutes)
      .sort((a, b) => b[1] - a[1])
      .map(([route, count]) => `${count} ${route}`)
      .join(', ');
    const queries = Object.entries(run.queries)
      .map(([kind, count]) => `${count} ${kind}`)
      .join(', ');
    lines.push(
      `  ${run.label}: ${run.seconds.toFixed(1)} s wall, peak RSS ${run.peakRssMb.toFixed(0)} MB; CPU: ${cpu}`,
      `    WordPress: ${routes || 'none'}`,
      `    MariaDB: ${queries}`,
    );
  }
  return lines.join('\n');
}

/** The initial sync's cost per created user next to the raw PHP loop's. */
function perUser(raw: RawInsert, initial: ToolRun): string {
  const created = Math.max(1, initial.count('created'));
  const ms = (seconds: number | undefined, count: number) => (((seconds ?? 0) * 1000) / count).toFixed(1);
  const statements = (queries: Record<string, number>, count: number) =>
    ((queries.Questions ?? 0) / count).toFixed(0);
  return [
    'Per created user:',
    `  raw PHP loop: ${ms(raw.seconds, raw.users)} ms wall; CPU ms: php ${ms(raw.phpCpuSeconds, raw.users)}, mariadb ${ms(raw.mariadbCpuSeconds, raw.users)}; ${statements(raw.queries, raw.users)} SQL statements`,
    `  initial sync: ${ms(initial.seconds, created)} ms wall; CPU ms: tool ${ms(initial.toolCpuSeconds, created)}, php-fpm ${ms(initial.servicesCpu['php-fpm'], created)}, mariadb ${ms(initial.servicesCpu.mariadb, created)}, nginx ${ms(initial.servicesCpu.nginx, created)}; ${statements(initial.queries, created)} SQL statements`,
  ].join('\n');
}

function renderProfiles(profiles: {
  tool: ProfileSummary | undefined;
  phpFpm: PhpProfileSummary | undefined;
}): string {
  const lines: string[] = [];
  const { tool, phpFpm } = profiles;
  if (tool) {
    const busy = tool.areas.filter((area) => area.area !== '(idle)');
    const busyMs = busy.reduce((sum, area) => sum + area.ms, 0);
    lines.push(
      `The tool during the initial sync (V8): busy ${(busyMs / 1000).toFixed(1)} s of ${(tool.totalMs / 1000).toFixed(1)} s; self time by area:`,
      ...busy.slice(0, 10).map((area) => `  ${(area.ms / 1000).toFixed(2)} s  ${area.area}`),
      '  by function:',
      ...tool.functions
        .filter((entry) => entry.function !== '(idle)')
        .slice(0, 12)
        .map((entry) => `  ${(entry.ms / 1000).toFixed(2)} s  ${entry.function}`),
    );
  }
  if (phpFpm) {
    const percent = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
    lines.push(
      `PHP-FPM during the initial sync (Excimer, ${phpFpm.sampledSeconds.toFixed(1)} CPU s sampled); self:`,
      ...phpFpm.self.slice(0, 15).map((entry) => `  ${percent(entry.share)}  ${entry.function}`),
      '  inclusive (on the stack):',
      ...phpFpm.inclusive.slice(0, 30).map((entry) => `  ${percent(entry.share)}  ${entry.function}`),
    );
  }
  return lines.join('\n');
}

type ToolFor = (name: string, tenant: FakeTenant) => Promise<{ tool: BenchTool; graph: FakeGraph }>;

/** The run's waits as numbers for results.json. */
function waitNumbers(run: ToolRun): Record<string, number> {
  return {
    graphOnlySeconds: run.waits.graphOnly,
    wordpressOnlySeconds: run.waits.wordpressOnly,
    bothSeconds: run.waits.both,
    neitherSeconds: run.waits.neither,
  };
}

/**
 * 7 and 8. An initial sync with Graph as slow as the real one: every request answered
 * 400 ms late, then also a fifth of them throttled (429, Retry-After 0–1 s), against the
 * same sync with the fake's own few milliseconds. 100 users a page, so that there are
 * pages enough for reading ahead to matter; each run starts from an empty site.
 */
async function latencySteps(toolFor: ToolFor, stack: WordPressStackClient): Promise<BenchResult[]> {
  const tenant = new FakeTenant(generateUsers(latencyUsers, 400));
  const variants = [
    { name: 'no-latency', latencyMs: 0, rate429: 0 },
    { name: 'latency-400ms', latencyMs: 400, rate429: 0 },
    { name: 'latency-throttled', latencyMs: 400, rate429: 0.2 },
  ] as const;
  const measured: Record<string, ToolRun> = {};
  for (const variant of variants) {
    say(`bench: 7/8. initial sync of ${n(latencyUsers)} users, ${variant.name}…`);
    await stack.resetSite(0);
    const { tool, graph } = await toolFor(variant.name, tenant);
    await tool.writeConfig({ source: { users: {} }, actions: { delete: 'soft' }, limits: { pageSize: 100 } });
    graph.faults.seed(2026);
    graph.faults.latencyMs = variant.latencyMs;
    graph.faults.rate429 = variant.rate429;
    graph.faults.retryAfterRange = [0, 1];
    measured[variant.name] = await tool.run(variant.name);
  }
  const base = measured['no-latency']!;
  const pages = Math.ceil(latencyUsers / 100);
  const row = (run: ToolRun, step: string, what: string): BenchResult => {
    const slower = run.seconds / base.seconds - 1;
    const complete = run.count('created') === latencyUsers && base.count('created') === latencyUsers;
    return {
      step,
      measured: `${run.seconds.toFixed(1)} s against ${base.seconds.toFixed(1)} s without latency (${slower >= 0 ? '+' : ''}${(slower * 100).toFixed(1)}%); ${what}; Graph only ${run.waits.graphOnly.toFixed(1)} s, Graph behind WordPress ${run.waits.both.toFixed(1)} s`,
      target: '≤ 10% slower than without latency',
      pass: run.code === 0 && complete && slower <= 0.1,
      ...noteFor(base, run, complete ? '' : 'not every user was created'),
      numbers: {
        seconds: run.seconds,
        baseSeconds: base.seconds,
        slower,
        graphRequests: run.graphRequests,
        throttled: run.graphThrottled,
        ...waitNumbers(run),
      },
    };
  };
  const throttledRun = measured['latency-throttled']!;
  return [
    row(
      measured['latency-400ms']!,
      `7. Graph answering 400 ms late, initial sync of ${n(latencyUsers)} (${pages} pages)`,
      `${measured['latency-400ms']!.graphRequests} Graph requests`,
    ),
    row(
      throttledRun,
      '8. … and 20% of Graph requests throttled (429, Retry-After 0–1 s)',
      `${throttledRun.graphThrottled} of ${throttledRun.graphRequests} Graph requests answered 429`,
    ),
  ];
}

/**
 * 9. The initial sync of 100,000 users into an empty site: as fast per user as the 10,000
 * of step 1 (the site's growth must not slow it), within the memory of a small container.
 */
async function bigInitialStep(
  toolFor: ToolFor,
  stack: WordPressStackClient,
  rawRate: number,
  smallRatio: number | undefined,
): Promise<{ result: BenchResult; run: ToolRun }> {
  say(`bench: 9. initial sync of ${n(bigUsers)} users into an empty site…`);
  await stack.resetSite(0);
  const { tool } = await toolFor('big-initial', new FakeTenant(generateUsers(bigUsers, 78)));
  await tool.writeConfig({ source: { users: {} }, actions: { delete: 'soft' } });
  const run = await tool.run('big-initial');
  const created = run.count('created');
  const rate = created / run.seconds;
  const ratio = rate / rawRate;
  const keeps = smallRatio === undefined || ratio >= smallRatio * 0.9;
  return {
    run,
    result: {
      step: `9. initial sync of ${n(bigUsers)} users into an empty site`,
      measured: `${run.seconds.toFixed(0)} s, ${rate.toFixed(0)} users/s (${n(created)} created) → ${ratio.toFixed(2)}× raw PHP${smallRatio === undefined ? '' : ` (step 1: ${smallRatio.toFixed(2)}×)`}; peak RSS ${run.peakRssMb.toFixed(0)} MB`,
      target: "ratio within 10% of step 1's, peak RSS < 256 MB",
      pass: run.code === 0 && created === bigUsers && keeps && run.peakRssMb < 256,
      ...noteFor(run, created === bigUsers ? '' : `${n(bigUsers - created)} users not created`),
      numbers: {
        seconds: run.seconds,
        usersPerSecond: rate,
        ratio,
        ...(smallRatio === undefined ? {} : { smallRatio }),
        created,
        peakRssMb: run.peakRssMb,
        graphRequests: run.graphRequests,
        wordpressRequests: run.wordpressRequests,
        ...waitNumbers(run),
      },
    },
  };
}

/**
 * 10. Where the initial syncs' wall time goes: what was in flight (seen by the fake Graph
 * and the proxy), and how busy PHP-FPM and MariaDB were (CPU seconds per wall second, of 2
 * cores). Shown so that the next bottleneck is visible; it has no target of its own.
 */
function timeBreakdown(list: ToolRun[]): BenchResult {
  const describe = (run: ToolRun) => {
    const busy = (name: string) => ((run.servicesCpu[name] ?? 0) / run.seconds).toFixed(2);
    return `${n(run.count('created'))} users, ${run.seconds.toFixed(0)} s: ${describeWaits(run.waits)}; cores busy: PHP-FPM ${busy('php-fpm')}, MariaDB ${busy('mariadb')}, the CLI ${(run.toolCpuSeconds / run.seconds).toFixed(2)}`;
  };
  return {
    step: '10. where the initial syncs spend their time',
    measured: list.map(describe).join('<br>'),
    target: 'shown (no target)',
    pass: true,
    numbers: Object.fromEntries(
      list.flatMap((run) => [
        [`${run.label}PhpFpmCores`, (run.servicesCpu['php-fpm'] ?? 0) / run.seconds],
        [`${run.label}MariadbCores`, (run.servicesCpu.mariadb ?? 0) / run.seconds],
        [`${run.label}WordpressOnlySeconds`, run.waits.wordpressOnly],
        [`${run.label}GraphOnlySeconds`, run.waits.graphOnly],
        [`${run.label}NeitherSeconds`, run.waits.neither],
      ]),
    ),
  };
}

/**
 * 11. What an account's password hash costs on this WordPress: core's own (bcrypt at cost
 * 10 since 6.8) against the cost the companion plugin gives the random password of an
 * account the sync creates.
 */
async function passwordHashStep(stack: WordPressStackClient): Promise<BenchResult> {
  say('bench: 11. password hashing per created account…');
  const output = await stack.runPhp(
    0,
    `$time = function () { $start = microtime(true); for ($i = 0; $i < 20; $i++) { wp_hash_password(wp_generate_password(32, true, true)); } return (microtime(true) - $start) * 1000 / 20; };
    $core = $time();
    add_filter('wp_hash_password_options', function ($options) { $options['cost'] = ENTRA_WP_SYNC_THROWAWAY_PASSWORD_COST; return $options; });
    $sync = $time();
    echo wp_json_encode(['core' => $core, 'sync' => $sync, 'algorithm' => str_starts_with(wp_hash_password('x'), '$wp$2y$') ? 'bcrypt' : 'phpass']);`,
  );
  const { core, sync, algorithm } = JSON.parse(output.trim().split('\n').pop() ?? '{}') as {
    core: number;
    sync: number;
    algorithm: string;
  };
  return {
    step: '11. password hash of an account the sync creates',
    measured: `${sync.toFixed(1)} ms (the plugin's bcrypt cost ${4}) against ${core.toFixed(1)} ms for core's own hash (${algorithm})`,
    target: "≤ 1/10 of core's",
    pass: sync * 10 <= core || algorithm !== 'bcrypt',
    numbers: { syncMs: sync, coreMs: core },
  };
}
