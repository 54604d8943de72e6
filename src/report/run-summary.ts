// What one job's run did, collected while it runs and rendered into summary.md.

import type { HeldDecisions } from '../rules/approvals.ts';
import type { RemovalOutcome } from '../rules/removals.ts';
import { formatDuration } from './duration.ts';
import type { JobFailure } from './job-failure.ts';
import { escapeMarkdown, table } from './markdown.ts';
import type { ResultRow } from './result-row.ts';

export interface ErrorGroup {
  reason: string;
  count: number;
  examples: string[];
  /** The examples with each one's own message (the reason with their names in it). */
  details?: Array<{ user: string; message: string }> | undefined;
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
  removals?: RemovalOutcome | undefined;
  /** Why an approval that was asked for approved nothing. */
  approvalNotes?: string[] | undefined;
  /** Who approved what this run applied from a held list. */
  approvedBy?: string | undefined;
  /** Logins of existing accounts matched but not linked: no proof they are the person's. */
  heldAdoptions?: string[] | undefined;
  /** The held list a person may approve after this run, with the run that held it. */
  held?: HeldForApproval | undefined;
  /** The cycle this run read pages of. */
  cycleId?: string | undefined;
  /** Set with fatalError: the exit code that failure means (2 for config, 1 otherwise). */
  exitCode?: number | undefined;
  /** The job was not run, and why: another live run holds it. Not a failure (exit 0). */
  skippedBecause?: string | undefined;
  /** Set with fatalError: its message and hint apart, and whose side failed. */
  failure?: JobFailure | undefined;
  /** A run for one Entra user (sync-user, the action's user input): no cycle moved. */
  singleUser?: string | undefined;
}

/** A held list as a person reviews it: each user with their Entra UPN where the run knew it. */
export interface HeldForApproval {
  runId: string;
  removals: Array<HeldDecisions['removals'][number] & { upn?: string | undefined }>;
  adoptions: Array<HeldDecisions['adoptions'][number] & { upn?: string | undefined }>;
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
      group = { reason: row.message, count: 0, examples: [], details: [] };
      this.#groups.set(key, group);
    }
    group.count++;
    if (group.examples.length < examplesPerGroup) {
      const user = row.userPrincipalName || row.objectId || row.wordpressLogin;
      group.examples.push(user);
      group.details?.push({ user, message: row.message });
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

/** Writes first, then what was left alone, then what needs someone. */
export const countOrder = [
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
  /** Where the run came from, so approval hints name the flag or the workflow input. */
  approveVia?: 'cli' | 'action' | undefined;
}

export function renderSummaryMarkdown(summaries: readonly JobRunSummary[], links: SummaryLinks = {}): string {
  const body = summaries.map((summary) => renderJob(summary, links.approveVia ?? 'cli')).join('\n\n');
  if (!links.resultsUrl) return body;
  return `${body}\n\nEvery decision, one row per user: [results.csv and results.jsonl in the run's artifacts](${links.resultsUrl}).`;
}

/** How to approve a held list of `count` from where the run came from. */
function approveHow(flag: 'allow-deletes' | 'allow-adoptions', count: number, via: 'cli' | 'action'): string {
  return via === 'action'
    ? `run the workflow again with the input \`${flag}: '${count}'\` (approves exactly these ${count})`
    : `run again with \`--${flag} ${count}\` (approves exactly these ${count})`;
}

function renderJob(summary: JobRunSummary, via: 'cli' | 'action'): string {
  if (summary.skippedBecause) return renderSkipped(summary);
  // A failed job shows its error first, and only what did happen before it.
  const jobFailed = summary.fatalError !== undefined;
  const title = `## entra-wp-sync: ${escapeMarkdown(summary.job)}${jobFailed ? ' failed' : ''}${summary.dryRun ? ' (preview, nothing written)' : ''}`;
  const keys = [...new Set([...countOrder, ...Object.keys(summary.counts)])].filter(
    (key) => (summary.counts[key] ?? 0) > 0 || key === 'created' || key === 'updated',
  );
  const counts = table(
    keys.map((key) => key),
    [keys.map((key) => summary.counts[key] ?? 0)],
  );
  const of = summary.totalCount === undefined ? '' : ` of ${summary.totalCount}`;
  const progress = summary.singleUser
    ? `Synced one Entra user (${escapeMarkdown(summary.singleUser)}) on its own; the job's cycle was not read or moved.`
    : summary.cycleKind === 'delta'
      ? summary.cycleComplete
        ? `Delta round complete: ${summary.usersSoFar} changed users read since the last run.`
        : `Delta round in progress: ${summary.usersSoFar} changed users so far; the next run continues.`
      : summary.cycleComplete
        ? `Cycle complete: ${summary.pagesDone} pages, ${summary.usersSoFar}${of} users.`
        : `Cycle in progress: page ${summary.pagesDone}, ${summary.usersSoFar}${of} users so far; the next run continues.`;
  const happened = keys.some((key) => (summary.counts[key] ?? 0) > 0);
  const lines = [
    title,
    ...(jobFailed ? renderFailure(summary) : []),
    ...(summary.removals?.suspect
      ? ['', `> **Likely cause: ${escapeMarkdown(summary.removals.suspect)}.** No one was removed.`]
      : []),
    ...(summary.approvalNotes ?? []).map((note) => `\n**Approval not applied:** ${escapeMarkdown(note)}`),
    ...(summary.approvedBy
      ? ['', `Applied the held list approved by ${escapeMarkdown(summary.approvedBy)}.`]
      : []),
    '',
    `Run \`${summary.runId}\` started ${summary.startedAt}, ${jobFailed ? 'failed after' : 'took'} ${formatDuration(summary.durationMs)}.`,
    ...(!jobFailed || happened ? ['', counts] : summary.dryRun ? [] : ['', 'No WordPress user was changed.']),
    ...(!jobFailed ? ['', progress] : summary.pagesDone > 0 ? ['', `Before the error: ${progress}`] : []),
  ];
  if (summary.stopReason) lines.push('', `Stopped early: ${escapeMarkdown(summary.stopReason)}`);
  lines.push(...renderRemovals(summary, via));
  lines.push(...renderHeldAdoptions(summary, via));
  if (summary.mail) lines.push('', `Summary email: ${escapeMarkdown(summary.mail)}`);
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

function renderRemovals(summary: JobRunSummary, via: 'cli' | 'action'): string[] {
  if (!summary.deleteMode || summary.deleteMode === 'none') return [];
  const removals = summary.removals;
  if (!removals) {
    return [
      '',
      summary.fatalError
        ? summary.failure && summary.failure.source !== 'entra'
          ? 'No one was removed: removals only follow a complete cycle, and this run stopped at the error above.'
          : 'No one was removed: the cycle could not read every user from Entra, and removals only follow a complete cycle.'
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
  const why = removals.suspect
    ? 'the cycle read far fewer users from Entra than the job manages'
    : `more than safety.maxDeletes allows (${removals.limit} of ${removals.managed} managed users)`;
  const unapproved = removals.unapproved ?? [];
  return [
    '',
    `### Held deletions`,
    '',
    `${removals.wanted} users would be ${summary.deleteMode === 'soft' ? 'disabled' : 'deleted'}, ${why}. Nothing was removed. Check the list; if it is right, ${approveHow('allow-deletes', removals.wanted, via)}.`,
    ...(unapproved.length > 0
      ? [
          '',
          `The approval given named another list: ${unapproved.length} of these users were not on it (${unapproved.slice(0, 10).map(escapeMarkdown).join(', ')}${unapproved.length > 10 ? ', …' : ''}), so the list is held again.`,
        ]
      : []),
    '',
    ...names,
  ];
}

function renderHeldAdoptions(summary: JobRunSummary, via: 'cli' | 'action'): string[] {
  const held = summary.heldAdoptions ?? [];
  if (held.length === 0) return [];
  const names = held.slice(0, heldListed).map((name) => `- ${escapeMarkdown(name)}`);
  if (held.length > heldListed) names.push(`- …and ${held.length - heldListed} more (see results.csv)`);
  return [
    '',
    '### Held adoptions',
    '',
    `${held.length} existing WordPress accounts match an Entra user by email or username, but nothing shows they are that person's: they were registered, or their email or login changed, after the job began managing the site (or the site lacks the companion plugin). They were not linked and nothing was changed; each row in results.csv says why. Check each account; to link them, ${approveHow('allow-adoptions', held.length, via)}.`,
    '',
    ...names,
  ];
}

/** The error as the first thing a reader sees: what went wrong, then what to do. */
function renderFailure(summary: JobRunSummary): string[] {
  const message = summary.failure?.message ?? summary.fatalError ?? '';
  const hint = summary.failure?.hint;
  return ['', `> **${escapeMarkdown(message)}**`, ...(hint ? ['>', `> ${escapeMarkdown(hint)}`] : [])];
}

/** Another live run holds the job: it does the work, this run did nothing. */
function renderSkipped(summary: JobRunSummary): string {
  return [
    `## entra-wp-sync: ${escapeMarkdown(summary.job)} skipped`,
    '',
    `This run did nothing for the job: ${escapeMarkdown(summary.skippedBecause ?? '')}. That run does the job's work and reports it.`,
  ].join('\n');
}
