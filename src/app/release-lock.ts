// Releases a run lock from outside the run that took it: the GitHub Action's post step,
// after a cancel or a crash killed the run before it could let go. Only a lock that still
// names that run is released; another run's lock is left alone, whatever its age.
import { readFile, unlink } from 'node:fs/promises';
import { readApplicationPassword } from '../config/environment.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import { FileStateStore } from '../state/file-store.ts';
import type { LockOwner } from '../state/lock-owner.ts';
import { WordPressClient } from '../wordpress/rest-client.ts';

/** Where a job's lock lives: all a later process needs to find it, no secret included. */
export type LockPlace =
  | { job: string; backend: 'file'; directory: string }
  | { job: string; backend: 'wordpress'; url: string; username: string; applicationPasswordEnv: string };

/** Which run a lock belongs to, as the run wrote it when it took the lock. */
export type LockRun = Pick<LockOwner, 'runId' | 'pid' | 'host'>;

export function lockPlaceOf(job: ResolvedJob): LockPlace {
  if (job.state.backend === 'file') return { job: job.name, backend: 'file', directory: job.state.directory };
  return {
    job: job.name,
    backend: 'wordpress',
    url: job.wordpress.url,
    username: job.wordpress.username,
    applicationPasswordEnv: job.wordpress.applicationPasswordEnv,
  };
}

/** Checks a value read back from elsewhere (the post step's saved state) before it is trusted. */
export function isLockPlace(value: unknown): value is LockPlace {
  if (typeof value !== 'object' || value === null) return false;
  const place = value as Record<string, unknown>;
  if (typeof place.job !== 'string') return false;
  if (place.backend === 'file') return typeof place.directory === 'string';
  return (
    place.backend === 'wordpress' &&
    typeof place.url === 'string' &&
    typeof place.username === 'string' &&
    typeof place.applicationPasswordEnv === 'string'
  );
}

/**
 * 'released' when the lock was this run's and is gone now; 'not held' when this run held
 * none (it let go itself, or another run holds it). The site's lock route removes a lock
 * only for the run id that took it; an older plugin does not say whether it did one.
 */
export type ReleaseOutcome = 'released' | 'not held' | 'released if held';

export async function releaseLockOfRun(
  place: LockPlace,
  run: LockRun,
  env: NodeJS.ProcessEnv,
): Promise<ReleaseOutcome> {
  return place.backend === 'file' ? releaseFileLock(place, run) : releaseSiteLock(place, run, env);
}

async function releaseFileLock(
  place: LockPlace & { backend: 'file' },
  run: LockRun,
): Promise<ReleaseOutcome> {
  const path = new FileStateStore(place.directory).lockPath(place.job);
  let holder: Partial<LockOwner>;
  try {
    holder = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
  } catch (error) {
    // No lock, or one being written this instant: in either case not this (dead) run's.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return 'not held';
    throw error;
  }
  // A run that took over a stale lock wrote its own id: that lock is not ours to remove.
  if (holder.runId !== run.runId || holder.pid !== run.pid || holder.host !== run.host) return 'not held';
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'not held';
    throw error;
  }
  return 'released';
}

async function releaseSiteLock(
  place: LockPlace & { backend: 'wordpress' },
  run: LockRun,
  env: NodeJS.ProcessEnv,
): Promise<ReleaseOutcome> {
  const password = readApplicationPassword(env, place.applicationPasswordEnv);
  if (!password) {
    throw new ActionableError(
      `Job "${place.job}": ${place.applicationPasswordEnv} is not set, so the lock on ${place.url} cannot be released.`,
      {
        exitCode: ExitCode.usage,
        hint: `Give the step the ${place.applicationPasswordEnv} secret in its env (the post step gets the step's env); otherwise the lock frees by itself when it expires.`,
      },
    );
  }
  const client = new WordPressClient({
    url: place.url,
    username: place.username,
    applicationPassword: password,
  });
  try {
    await client.discoverRoutes('/entra-wp-sync/v1/info');
    // The same request the run itself releases with; the plugin compares the run id.
    const response = await client.request<{ released?: unknown }>(
      'DELETE',
      `/entra-wp-sync/v1/lock/${place.job}`,
      {
        body: { runId: run.runId },
      },
    );
    const { released } = response.data;
    return released === true ? 'released' : released === false ? 'not held' : 'released if held';
  } finally {
    await client.close();
  }
}
