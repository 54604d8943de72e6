// CPU time of the test bed's services (PHP-FPM, MariaDB, nginx) and of this process (the
// fake Graph and the counting proxy), read from /proc, to see where a run's time goes.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type CpuSeconds = Record<string, number>;

export const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  ticks: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields after it start at the last ')'.
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    return {
      pid: Number(pid),
      ppid: Number(fields[1]),
      comm: text.slice(text.indexOf('(') + 1, close),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

function group(comm: string): string | undefined {
  if (comm.startsWith('php-fpm')) return 'php-fpm';
  if (comm.startsWith('mariadb') || comm.startsWith('mysqld')) return 'mariadb';
  if (comm.startsWith('nginx')) return 'nginx';
  return undefined;
}

/** CPU seconds used so far by this process's PHP-FPM, MariaDB and nginx descendants, and by itself. */
export function sampleCpu(): CpuSeconds {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(readStat)
    .filter((stat): stat is ProcStat => stat !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const totals: CpuSeconds = { 'php-fpm': 0, mariadb: 0, nginx: 0 };
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      const name = group(child.comm);
      if (name) totals[name] = (totals[name] ?? 0) + child.ticks / ticksPerSecond;
      visit(child.pid);
    }
  };
  visit(process.pid);
  const own = process.cpuUsage();
  totals['bench (fake Graph, proxy)'] = (own.user + own.system) / 1e6;
  return totals;
}

/** What each group used between two samples. */
export function cpuBetween(before: CpuSeconds, after: CpuSeconds): CpuSeconds {
  return Object.fromEntries(
    Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]),
  );
}
