// What a decision looks like in results.jsonl/csv, and which actions count as writes.
import type { ResultRow } from '../report/result-row.ts';
import type { AppliedChange } from './apply.ts';

const writeActions = ['created', 'adopted', 'updated', 'restored', 'disabled', 'deleted'];

/** How many rows of these action counts wrote to WordPress. */
export function writtenIn(counts: Record<string, number>): number {
  return writeActions.reduce((sum, action) => sum + (counts[action] ?? 0), 0);
}

export function toResultRow(
  change: AppliedChange,
  run: { runId: string; job: string; dryRun: boolean },
  time: Date,
): ResultRow {
  return {
    time: time.toISOString(),
    runId: run.runId,
    job: run.job,
    action: change.action,
    mode: run.dryRun ? 'planned' : change.action === 'failed' ? 'failed' : 'applied',
    objectId: change.subject.objectId,
    userPrincipalName: change.subject.userPrincipalName,
    email: change.subject.email,
    wordpressId: change.subject.wordpressId ?? '',
    wordpressLogin: change.subject.wordpressLogin ?? '',
    fields: change.fields.join(' '),
    message: change.message,
  };
}
