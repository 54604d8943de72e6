// The GitHub Actions run this process is part of, as the runner's variables name it:
// the pages a lock, a summary or an artifact link points people to.
import type { Env } from '../config/env.ts';
import { readVariable } from '../config/environment.ts';

/** The workflow run page (where artifacts are listed), when running in GitHub Actions. */
export function actionsRunUrl(env: Env): string | undefined {
  const server = readVariable(env, 'GITHUB_SERVER_URL');
  const repository = readVariable(env, 'GITHUB_REPOSITORY');
  const runId = readVariable(env, 'GITHUB_RUN_ID');
  return server && repository && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined;
}

/** The page of this attempt of the run, where someone can see whether it still runs. */
export function actionsRunAttemptUrl(env: Env): string | undefined {
  const runUrl = actionsRunUrl(env);
  if (!runUrl) return undefined;
  const attempt = readVariable(env, 'GITHUB_RUN_ATTEMPT');
  return `${runUrl}${attempt ? `/attempts/${attempt}` : ''}`;
}
