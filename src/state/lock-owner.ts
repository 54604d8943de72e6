// Who a run is, as its lock tells whoever finds the lock: run id, process, machine,
// start time and, inside GitHub Actions, the run attempt's page.
import { hostname } from 'node:os';
import type { LockOwner } from './state-store.ts';

export function lockOwnerOf(runId: string, started: Date, env: NodeJS.ProcessEnv): LockOwner {
  const runUrl = actionsRunAttemptUrl(env);
  return {
    runId,
    pid: process.pid,
    host: hostname(),
    startedAt: started.toISOString(),
    ...(runUrl ? { runUrl } : {}),
  };
}

/** The page of this attempt of the GitHub Actions run, where someone can see whether it still runs. */
export function actionsRunAttemptUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env;
  if (!server || !repository || !runId) return undefined;
  const attempt = env.GITHUB_RUN_ATTEMPT;
  return `${server}/${repository}/actions/runs/${runId}${attempt ? `/attempts/${attempt}` : ''}`;
}
