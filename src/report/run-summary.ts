// What one job's run did, collected while it runs and rendered into summary.md.
import { escapeMarkdown, table } from './markdown.ts';
import type { ResultRow } from './result-row.ts';

export interface ErrorGroup {
  reason: string;
  count: number;
  examples: string[];
}

export interface JobRunSummary {
  job: string;
  runId: string;
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  counts: Record<string, number>;
  errorGroups: ErrorGroup[];
  pagesDone: number;
  usersSoFar: number;
  totalCount: number | undefined;
  cycleComplete: boolean;
  /** A full cycle reads every user; a delta round only the changes since the last run. */
  cycleKind?: 'full' | 'delta' | undefined;
  /** Why the run stopped early (maxRuntime, signal) or failed. */
  stopReason: string | undefined;
  fatalError: string | undefined;
  deleteMode?: 'none' | 'soft' | 'hard' | undefined;
  /** What happened to the summary email, when the job asks for one. */
  mail?: string | undefined;
  /** What the end of a complete cycle did about users no longer in scope. */
  removals?:
    | { wanted: number; limit: number; managed: number; held: boolean; heldUsers: string[] }
    | undefined;
  /** Logins of existing accounts matched but not linked: no proof they are the person's. */
  heldAdoptions?: string[] | undefined;
  /** Set with fatalError: the exit code that failure means (2 for config, 1 otherwise). */
  exitCode?: number | undefined;
}

const examplesPerGroup = 3;
const maxGroups = 50;

/** Groups error rows by the shape of their reason (names and addresses blanked out). */
export class ErrorGrouper {
  readonly #groups = new Map<string, ErrorGroup>();

  add(row: ResultRow): void {
    const key = reasonShape(row.message);
    let group = this.#groups.get(key);
    if (!group) {
      group = { reason: row.message, count: 0, examples: [] };
      this.#groups.set(key, group);
    }
    group.count++;
    if (group.examples.length < examplesPerGroup) {
      group.examples.push(row.userPrincipalName || row.objectId || row.wordpressLogin);
    }
  }

  groups(): ErrorGroup[] {
    return [...this.#groups.values()].sort((a, b) => b.count - a.count);
  }
}

function reasonShape(reason: string): string {
  return reason
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\S+@\S+/g, '…@…')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '…')
    .replace(/#\d+ \S+/g, '#…')
    .replace(/\d+/g, 'N');
}

const countOrder = [
  'created',
  'adopted',
  'updated',
  'restored',
  'disabled',
  'deleted',
  'unchanged',
  'skipped',
  'held',
  'failed',
];

export interface SummaryLinks {
  /** Where the full results are, e.g. the workflow run whose artifact holds results.csv. */
  resultsUrl?: string | undefined;
}

export function renderSummaryMarkdown(summaries: readonly JobRunSummary[], links: SummaryLinks = {}): string {
  const body = summaries.map(renderJob).join('\n\n');
  if (!links.resultsUrl) return body;
  return `${body}\n\nEvery decision, one row per user: [results.csv and results.jsonl in the run's artifacts](${links.resultsUrl}).`;
}

/** The workflow run page (where artifacts are listed), when running in GitHub Actions. */
export function actionsRunUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env;
  return server && repository && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined;
}

function renderJob(summary: JobRunSummary): string {
  const title = `## entra-wp-sync: ${escapeMarkdown(summary.job)}${summary.dryRun ? ' (preview, nothing written)' : ''}`;
  const keys = [...new Set([...countOrder, ...Object.keys(summary.counts)])].filter(
    (key) => (summary.counts[key] ?? 0) > 0 || key === 'created' || key === 'updated',
  );
  const counts = table(
    keys.map((key) => key),
    [keys.map((key) => summary.counts[key] ?? 0)],
  );
  const of = summary.totalCount === undefined ? '' : ` of ${summary.totalCount}`;
  const progress =
    summary.cycleKind === 'delta'
      ? summary.cycleComplete
        ? `Delta round complete: ${summary.usersSoFar} changed users read since the last run.`
        : `Delta round in progress: ${summary.usersSoFar} changed users so far; the next run continues.`
      : summary.cycleComplete
        ? `Cycle complete: ${summary.pagesDone} pages, ${summary.usersSoFar}${of} users.`
        : `Cycle in progress: page ${summary.pagesDone}, ${summary.usersSoFar}${of} users so far; the next run continues.`;
  const lines = [
    title,
    '',
    `Run \`${summary.runId}\` started ${summary.startedAt}, took ${formatDuration(summary.durationMs)}.`,
    '',
    counts,
    '',
    progress,
  ];
  if (summary.stopReason) lines.push('', `Stopped early: ${escapeMarkdown(summary.stopReason)}`);
  lines.push(...renderRemovals(summary));
  lines.push(...renderHeldAdoptions(summary));
  if (summary.mail) lines.push('', `Summary email: ${escapeMarkdown(summary.mail)}`);
  if (summary.fatalError) lines.push('', `**Failed:** ${escapeMarkdown(summary.fatalError)}`);
  if (summary.errorGroups.length > 0) {
    const failed = summary.errorGroups.reduce((sum, group) => sum + group.count, 0);
    lines.push(
      '',
      `<details><summary>${failed} users could not be synced, by reason</summary>`,
      '',
      table(
        ['users', 'reason', 'examples'],
        summary.errorGroups
          .slice(0, maxGroups)
          .map((group) => [
            group.count,
            escapeMarkdown(group.reason),
            group.examples.map(escapeMarkdown).join(', '),
          ]),
      ),
      '',
      '</details>',
    );
    if (summary.errorGroups.length > maxGroups) {
      lines.push('', `…and ${summary.errorGroups.length - maxGroups} more reasons; see results.csv.`);
    }
  }
  return lines.join('\n');
}

const heldListed = 100;

function renderRemovals(summary: JobRunSummary): string[] {
  if (!summary.deleteMode || summary.deleteMode === 'none') return [];
  const removals = summary.removals;
  if (!removals) {
    return [
      '',
      summary.fatalError
        ? 'No one was removed: the cycle could not read every user from Entra, and removals only follow a complete cycle.'
        : 'No one was removed yet: removals wait until a cycle has read every page.',
    ];
  }
  if (!removals.held) {
    return [
      '',
      `Removals: ${removals.wanted} of ${removals.managed} managed users no longer in scope (limit ${removals.limit}).`,
    ];
  }
  const names = removals.heldUsers.slice(0, heldListed).map((name) => `- ${escapeMarkdown(name)}`);
  if (removals.heldUsers.length > heldListed)
    names.push(`- …and ${removals.heldUsers.length - heldListed} more (see results.csv)`);
  return [
    '',
    `### Held deletions`,
    '',
    `${removals.wanted} users would be ${summary.deleteMode === 'soft' ? 'disabled' : 'deleted'}, more than safety.maxDeletes allows (${removals.limit} of ${removals.managed} managed users). Nothing was removed. If this is expected, run again with \`--allow-deletes\` (action input \`allow-deletes: true\`).`,
    '',
    ...names,
  ];
}

function renderHeldAdoptions(summary: JobRunSummary): string[] {
  const held = summary.heldAdoptions ?? [];
  if (held.length === 0) return [];
  const names = held.slice(0, heldListed).map((name) => `- ${escapeMarkdown(name)}`);
  if (held.length > heldListed) names.push(`- …and ${held.length - heldListed} more (see results.csv)`);
  return [
    '',
    '### Held adoptions',
    '',
    `${held.length} existing WordPress accounts match an Entra user by email or username, but nothing shows they are that person's: they were registered, or their email or login changed, after the job began managing the site (or the site lacks the companion plugin). They were not linked and nothing was changed; each row in results.csv says why. Check each account, then run again with \`--allow-adoptions\` (action input \`allow-adoptions: true\`) to link them.`,
    '',
    ...names,
  ];
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
