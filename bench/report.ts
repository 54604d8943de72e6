// The bench's table, for the terminal, bench/results.json and README.md.
import { readFile, writeFile } from 'node:fs/promises';

export interface BenchResult {
  step: string;
  measured: string;
  target: string;
  pass: boolean;
  /** Why a target was missed, or what to know about the number. */
  note?: string;
  numbers: Record<string, number>;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  php: string;
  mariadb: string;
  wordpress: string;
  /** 1-minute load average when the bench started: other work on the machine skews the numbers. */
  loadAtStart: number;
}

export interface BenchReport {
  date: string;
  machine: Machine;
  results: BenchResult[];
}

export function renderTable(report: BenchReport): string {
  const { machine } = report;
  return [
    '| step | measured | target | result |',
    '| --- | --- | --- | --- |',
    ...report.results.map(
      (result) =>
        `| ${result.step} | ${result.measured} | ${result.target} | ${result.pass ? 'pass' : '**MISS**'} |`,
    ),
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB RAM; Node ${machine.node}, PHP ${machine.php}, MariaDB ${machine.mariadb}, WordPress ${machine.wordpress}. Load average ${machine.loadAtStart.toFixed(2)} at the start. Run ${report.date.slice(0, 10)}.`,
  ].join('\n');
}

/** The missed targets, one line each, for the end of the output. */
export function renderMisses(report: BenchReport): string {
  const misses = report.results.filter((result) => !result.pass);
  if (misses.length === 0) return 'All targets met.';
  return [
    `MISSED ${misses.length} of ${report.results.length} targets:`,
    ...misses.map(
      (miss) =>
        `  ✗ ${miss.step}: ${miss.measured} (target ${miss.target})${miss.note ? ` — ${miss.note}` : ''}`,
    ),
  ].join('\n');
}

const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';

/** Replaces what stands between the bench markers in README.md. */
export async function updateReadme(readme: URL, report: BenchReport): Promise<void> {
  const text = await readFile(readme, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from)
    throw new Error(
      `${readme.pathname} has no ${start} … ${end} markers for the bench table; put them back.`,
    );
  await writeFile(readme, `${text.slice(0, from + start.length)}\n${renderTable(report)}\n${text.slice(to)}`);
}
