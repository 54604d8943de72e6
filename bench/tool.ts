// Runs the product's CLI as its own child process, the way a cron host does, and measures
// one run: wall time, peak RSS and CPU of the tool, CPU of the WordPress services, the
// requests it made to Graph and WordPress, and what its results say it wrote.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writtenIn } from '../src/engine/result-rows.ts';
import type { FakeGraph } from '../test/fixtures/fake-graph/index.ts';
import { type LocalApp, localSyncEnv, readResultRows, writeLocalConfig } from '../test/support/local-sync.ts';
import type { WordPressSite, WordPressStackClient } from '../test/support/wordpress/index.ts';
import type { CountingProxy } from './counting-proxy.ts';
import { type CpuSeconds, cpuBetween, sampleCpu, ticksPerSecond } from './process-cpu.ts';
import { type WaitBreakdown, waitBreakdown } from './wait-time.ts';

const gnuTime = '/usr/bin/time';

export interface ToolRun {
  label: string;
  code: number | null;
  seconds: number;
  peakRssMb: number;
  /** User + system CPU seconds of the CLI process. */
  toolCpuSeconds: number;
  /** CPU seconds of the WordPress services and the bench process during the run. */
  servicesCpu: CpuSeconds;
  /** Statements MariaDB ran during the run, by kind (Questions: all of them). */
  queries: Record<string, number>;
  /** Result rows per action (created, updated, unchanged, failed…). */
  actions: Record<string, number>;
  graphRequests: number;
  graphRoutes: Record<string, number>;
  /** Graph requests the fake answered 429 (throttled). */
  graphThrottled: number;
  wordpressRequests: number;
  wordpressRoutes: Record<string, number>;
  /** Requests that wrote users, as the proxy saw them. */
  wordpressWrites: number;
  /** From the first write request to the last write's answer, as the proxy saw them. */
  writeSeconds: number;
  /** Rows that wrote to WordPress (created, updated, restored, disabled, deleted). */
  writes: number;
  failed: number;
  /** The run's wall time by what was in flight: Graph requests, WordPress requests, both, neither. */
  waits: WaitBreakdown;
  /** The .cpuprofile written with `cpuProfile: true`. */
  profile?: string;
  count(action: string): number;
}

export interface BenchToolOptions {
  /** The CLI's entry file: the bundle built from src/, or src/cli/index.ts itself. */
  cli: string;
  directory: string;
  name: string;
  graph: FakeGraph;
  app: LocalApp;
  site: WordPressSite;
  stack: WordPressStackClient;
  proxy: CountingProxy;
  /** Every run is added here too. */
  runs: ToolRun[];
  say: (text: string) => void;
}

export class BenchTool {
  readonly configPath: string;
  private readonly options: BenchToolOptions;

  constructor(options: BenchToolOptions) {
    this.options = options;
    this.configPath = join(options.directory, `${options.name}.yaml`);
  }

  /**
   * The one job `bench`, pageSize 999 and everything else at its defaults unless `job` says
   * otherwise; `extra` adds top-level settings (a state backend).
   */
  async writeConfig(job: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<void> {
    const { directory, name, graph, app, site, proxy } = this.options;
    await writeLocalConfig(this.configPath, {
      graph,
      app,
      site,
      wordpressUrl: proxy.url,
      stateDirectory: join(directory, `${name}-state`),
      jobs: [{ name: 'bench', limits: { pageSize: 999 }, ...job }],
      extra,
    });
  }

  /** One run; `cpuProfile` writes a V8 CPU profile, `cli` replaces the entry file for it. */
  async run(
    label: string,
    extra: { env?: Record<string, string>; cpuProfile?: boolean; cli?: string } = {},
  ): Promise<ToolRun> {
    const { cli, directory, name, graph, app, site, proxy, say } = this.options;
    const out = join(directory, `${name}-${label}`);
    const profileDirectory = join(directory, `${name}-${label}-profile`);
    const timeFile = join(directory, `${name}-${label}.time`);
    const node = [
      process.execPath,
      ...(extra.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', profileDirectory] : []),
      extra.cli ?? cli,
      'run',
      '-c',
      this.configPath,
      '--out',
      out,
      '--quiet',
    ];
    // GNU time reports the child's peak RSS and CPU exactly; without it, /proc is polled.
    const useTime = existsSync(gnuTime);
    const [command, ...args] = useTime ? [gnuTime, '-o', timeFile, '-f', '%M %U %S', ...node] : node;
    if (extra.cpuProfile) await mkdir(profileDirectory, { recursive: true });
    graph.requests.length = 0;
    proxy.reset();
    const queriesBefore = await queryCounts(this.options.stack);
    const cpuBefore = sampleCpu();
    const started = performance.now();
    const child = spawn(command!, args, {
      env: { ...localSyncEnv(graph, site, app), ...extra.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let polled = { peakKb: 0, ticks: 0 };
    const poll = useTime
      ? undefined
      : setInterval(() => {
          readProc(child.pid)
            .then((sample) => {
              if (sample) polled = { peakKb: Math.max(polled.peakKb, sample.peakKb), ticks: sample.ticks };
            })
            .catch(() => undefined);
        }, 20);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const ended = performance.now();
    const seconds = (ended - started) / 1000;
    const waits = waitBreakdown(
      graph.requests.map((request) => ({ start: request.arrived, end: request.answered ?? ended })),
      proxy.requests.map((request) => ({ start: request.started, end: request.finished ?? ended })),
      started,
      ended,
    );
    const servicesCpu = cpuBetween(cpuBefore, sampleCpu());
    const queriesAfter = await queryCounts(this.options.stack);
    const queries = Object.fromEntries(
      Object.entries(queriesAfter).map(([name, value]) => [name, value - (queriesBefore[name] ?? 0)]),
    );
    if (poll) clearInterval(poll);
    let peakKb = polled.peakKb;
    let toolCpuSeconds = polled.ticks / ticksPerSecond;
    if (useTime) {
      const line = (await readFile(timeFile, 'utf8')).trim().split('\n').pop() ?? '';
      const [rss, user, system] = line.split(' ').map(Number);
      peakKb = rss ?? 0;
      toolCpuSeconds = (user ?? 0) + (system ?? 0);
    }
    const actions: Record<string, number> = {};
    for (const row of await readResultRows(out))
      actions[String(row.action)] = (actions[String(row.action)] ?? 0) + 1;
    const count = (action: string) => actions[action] ?? 0;
    if (code !== 0)
      say(`bench: run "${label}" exited ${code}\n${stderr.trim().split('\n').slice(-15).join('\n')}`);
    const graphRoutes: Record<string, number> = {};
    const graphCalls = graph.requests.filter((request) => request.path.startsWith('/v1.0/'));
    for (const request of graphCalls) {
      const route = `${request.method} ${request.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '{id}')}`;
      graphRoutes[route] = (graphRoutes[route] ?? 0) + 1;
    }
    const profile = extra.cpuProfile
      ? (await readdir(profileDirectory))
          .filter((file) => file.endsWith('.cpuprofile'))
          .map((file) => join(profileDirectory, file))[0]
      : undefined;
    const run: ToolRun = {
      label,
      code,
      seconds,
      peakRssMb: peakKb / 1024,
      toolCpuSeconds,
      servicesCpu,
      queries,
      actions,
      graphRequests: graphCalls.length,
      graphRoutes,
      graphThrottled: graphCalls.filter((request) => request.status === 429).length,
      wordpressRequests: proxy.requests.length,
      wordpressRoutes: proxy.routes(),
      wordpressWrites: proxy.writes(),
      writeSeconds: proxy.writeSeconds(),
      writes: writtenIn(actions),
      failed: count('failed'),
      waits,
      ...(profile ? { profile } : {}),
      count,
    };
    this.options.runs.push(run);
    return run;
  }
}

/** MariaDB's statement counters (server-wide: the bench's own status queries add one each). */
export async function queryCounts(stack: WordPressStackClient): Promise<Record<string, number>> {
  const output = await stack.runSql(
    0,
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions','Com_select','Com_insert','Com_update','Com_delete');",
  );
  const counts: Record<string, number> = {};
  for (const line of output.split('\n')) {
    const [name, value] = line.split('\t');
    if (name && value && /^\d+$/.test(value)) counts[name.replace('Com_', '')] = Number(value);
  }
  return counts;
}

async function readProc(pid: number | undefined): Promise<{ peakKb: number; ticks: number } | undefined> {
  if (pid === undefined) return undefined;
  const [status, stat] = await Promise.all([
    readFile(`/proc/${pid}/status`, 'utf8'),
    readFile(`/proc/${pid}/stat`, 'utf8'),
  ]);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    peakKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
    ticks: Number(fields[11]) + Number(fields[12]),
  };
}
