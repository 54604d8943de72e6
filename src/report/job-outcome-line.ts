// One line per job for the end of a log: what it did, where its cycle stands, how long
// it took. Only counts that happened are named.
import { formatDuration } from './duration.ts';
import { countOrder, type JobRunSummary } from './run-summary.ts';

export function jobOutcomeLine(summary: JobRunSummary): string {
  const name = `${summary.job}${summary.dryRun ? ' (preview)' : ''}`;
  if (summary.skippedBecause) return `${name}: skipped, ${summary.skippedBecause}`;
  const rank = (action: string) =>
    countOrder.includes(action) ? countOrder.indexOf(action) : countOrder.length;
  const counts = Object.entries(summary.counts)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([action, count]) => `${count} ${action}`)
    .join(', ');
  const took = formatDuration(summary.durationMs);
  if (summary.fatalError) {
    return `${name}: failed after ${took}; ${counts ? `before the error: ${counts}` : 'no user was changed'}`;
  }
  return `${name}: ${counts || 'nothing to do'}; ${cycleState(summary)}; ${took}`;
}

function cycleState(summary: JobRunSummary): string {
  if (summary.singleUser) return `synced one Entra user (${summary.singleUser}), the cycle was not moved`;
  const of = summary.totalCount === undefined ? '' : ` of ${summary.totalCount}`;
  if (summary.cycleKind === 'delta') {
    return summary.cycleComplete
      ? `delta round complete, ${summary.usersSoFar} changed users read`
      : `delta round continues next run, ${summary.usersSoFar} changed users so far`;
  }
  return summary.cycleComplete
    ? `cycle complete, ${summary.pagesDone} ${summary.pagesDone === 1 ? 'page' : 'pages'}, ${summary.usersSoFar}${of} users`
    : `cycle continues next run, page ${summary.pagesDone}, ${summary.usersSoFar}${of} users so far`;
}
