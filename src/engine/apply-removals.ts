// Carries out the removals of a complete cycle: disable (soft), delete with content
// reassigned (hard), or let go of a user other jobs still manage.
import pLimit from 'p-limit';
import { describeError } from '../errors.ts';
import type { RemovalChange } from '../rules/removals.ts';
import type { WordPressUserIndex } from '../rules/user-index.ts';
import type { UserWrites } from '../wordpress/user-writes.ts';
import type { AppliedChange } from './apply.ts';

export async function applyRemovals(
  changes: readonly RemovalChange[],
  writes: UserWrites,
  index: WordPressUserIndex,
  options: { concurrency: number; dryRun: boolean },
): Promise<AppliedChange[]> {
  const limit = pLimit(options.concurrency);
  return Promise.all(
    changes.map((change) =>
      options.dryRun || change.action === 'held'
        ? reportRemoval(change)
        : limit(() => applyOne(change, writes, index)),
    ),
  );
}

export function reportRemoval(change: RemovalChange): AppliedChange {
  const row = (action: AppliedChange['action'], fields: string[], message: string): AppliedChange => ({
    action,
    subject: change.subject,
    fields,
    message,
    written: false,
  });
  switch (change.action) {
    case 'disable':
      return row('disabled', ['roles', 'meta.entra_wp_sync_status'], `no longer in scope${approval(change)}`);
    case 'delete':
      return row(
        'deleted',
        [],
        `no longer in scope; content goes to user #${change.reassignTo}${approval(change)}`,
      );
    case 'release':
      return row('updated', ['meta.entra_wp_sync_jobs'], change.message);
    case 'held':
      return row('held', [], change.reason);
  }
}

function approval(change: { approvedBy?: string | undefined }): string {
  return change.approvedBy ? `; approved by ${change.approvedBy}` : '';
}

async function applyOne(
  change: RemovalChange,
  writes: UserWrites,
  index: WordPressUserIndex,
): Promise<AppliedChange> {
  const planned = reportRemoval(change);
  try {
    if (change.action === 'delete') {
      await writes.delete(change.user.id, change.reassignTo);
      index.remove(change.user.id);
    } else if (change.action === 'disable' || change.action === 'release') {
      index.put(await writes.update(change.user.id, change.patch));
    }
    return { ...planned, written: true };
  } catch (error) {
    return {
      ...planned,
      action: 'failed',
      message: `could not ${change.action} the user: ${describeError(error)}`,
    };
  }
}
