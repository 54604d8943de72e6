// `entra-wp-sync state show|reset [--job NAME]`: look at or clear a job's checkpoint;
// `state unlock --job NAME`: free a job's lock left by a run that is gone.

import { clearCheckpoint, openStateStore } from '../../app/reset-state.ts';
import { loadConfig, selectJobs } from '../../config/load.ts';
import { ActionableError, ExitCode } from '../../errors.ts';
import { managingSinceOf, type RunRecord } from '../../state/checkpoint.ts';
import { describeHolder } from '../../state/errors.ts';
import type { LockHolder } from '../../state/lock-owner.ts';

export interface StateCommandOptions {
  action: string | undefined;
  configPath: string;
  job: string | undefined;
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
}

export async function stateCommand(options: StateCommandOptions): Promise<number> {
  if (options.action !== 'show' && options.action !== 'reset' && options.action !== 'unlock') {
    throw new ActionableError(`state needs "show", "reset" or "unlock" (got "${options.action ?? ''}").`, {
      exitCode: ExitCode.usage,
      hint: 'entra-wp-sync state show --job NAME',
    });
  }
  // Freeing a lock is for one job a person knows is stuck, never all of them at once.
  if (options.action === 'unlock' && !options.job) {
    throw new ActionableError('state unlock needs --job NAME: the job whose lock to free.', {
      exitCode: ExitCode.usage,
      hint: 'entra-wp-sync state unlock --job NAME -c jobs.yaml',
    });
  }
  const config = await loadConfig(options.configPath, options.env);
  for (const job of selectJobs(config, options.job ? [options.job] : undefined)) {
    const { store, where, close } = await openStateStore(job, options.env);
    if (options.action === 'unlock') {
      const holder = await store.unlock(job.name).finally(close);
      options.stdout(`${job.name}: ${unlockedText(holder)}\n`);
      continue;
    }
    if (options.action === 'reset') {
      await clearCheckpoint(store, job.name);
      await close();
      options.stdout(
        `${job.name}: checkpoint cleared; the next run starts a new cycle (no removals until it completes).\n`,
      );
      continue;
    }
    const checkpoint = await store.load(job.name);
    await close();
    if (!checkpoint) {
      options.stdout(`${job.name}: no checkpoint; the next run starts a new cycle.\n`);
      continue;
    }
    const of = checkpoint.totalCount === undefined ? '' : ` of ${checkpoint.totalCount}`;
    const counters = Object.entries(checkpoint.counters)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ');
    options.stdout(
      [
        `${job.name}: cycle ${checkpoint.cycleId} started ${checkpoint.cycleStartedAt}`,
        `  ${checkpoint.listingDone ? 'listing complete' : `page ${checkpoint.pagesDone} done`}, ${checkpoint.seen.length}${of} users seen`,
        `  ${counters || 'nothing done yet'}`,
        `  saved ${checkpoint.updatedAt} in ${where}`,
        `  managing the site since ${managingSinceOf(checkpoint)} (accounts renamed after that are linked only with approval)`,
        ...renderHistory(checkpoint.history ?? []),
        '',
      ].join('\n'),
    );
  }
  return ExitCode.ok;
}

function unlockedText(holder: LockHolder | undefined): string {
  if (!holder) return 'no run held the lock; nothing to free.';
  const freed = `lock freed; it was held by ${describeHolder(holder)}`;
  // A lease's holder keeps renewing it; a lock file's holder never looks at it again.
  if (holder.expiresAt) {
    return `${freed} (its lease ran until ${holder.expiresAt}). Should that run in fact still be going, it takes the lock back at its next renewal, or stops writing if another run took it first.`;
  }
  return `${freed}. Should that process in fact still be running, stop it: nothing keeps it from running alongside the next run.`;
}

const historyColumns = ['created', 'updated', 'restored', 'disabled', 'deleted', 'held', 'failed'];

function renderHistory(history: readonly RunRecord[]): string[] {
  if (history.length === 0) return [];
  const header = ['started', 'took', 'outcome', ...historyColumns];
  const rows = history.map((run) => [
    run.startedAt.replace('T', ' ').slice(0, 19),
    `${(run.durationMs / 1000).toFixed(1)} s`,
    run.outcome,
    ...historyColumns.map((column) => String(run.counts[column] ?? 0)),
  ]);
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => row[index]!.length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((cell, index) => cell.padEnd(widths[index]!)).join('  ')}`.trimEnd();
  return ['  recent runs:', line(header), ...rows.map(line)];
}
