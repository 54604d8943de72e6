// Clears a job's checkpoint wherever it is kept (directory or WordPress site).
import { randomUUID } from 'node:crypto';
import type { ResolvedJob } from '../config/resolve.ts';
import { managingSinceOf, newCheckpoint } from '../state/checkpoint.ts';
import { FileStateStore } from '../state/file-store.ts';
import type { StateStore } from '../state/state-store.ts';
import { WordPressStateStore } from '../state/wordpress-store.ts';
import { WordPressClient } from '../wordpress/rest-client.ts';
import { applicationPasswordOf } from './run-jobs.ts';

/** The job's state store and, for the WordPress backend, the client to close afterwards. */
export async function openStateStore(
  job: ResolvedJob,
  env: NodeJS.ProcessEnv,
): Promise<{ store: StateStore; where: string; close: () => Promise<void> }> {
  if (job.state.backend === 'file') {
    const store = new FileStateStore(job.state.directory);
    return { store, where: store.checkpointPath(job.name), close: async () => undefined };
  }
  const client = new WordPressClient({
    url: job.wordpress.url,
    username: job.wordpress.username,
    applicationPassword: applicationPasswordOf(job, env),
  });
  await client.discoverRoutes('/entra-wp-sync/v1/info');
  const store = new WordPressStateStore(client);
  return { store, where: store.description, close: () => client.close() };
}

export async function resetState(job: ResolvedJob, env: NodeJS.ProcessEnv): Promise<void> {
  const { store, close } = await openStateStore(job, env);
  try {
    await clearCheckpoint(store, job.name);
  } finally {
    await close();
  }
}

/**
 * Starts the job's cycle over. When the job began managing the site is kept (with the run
 * history): forgetting it would let accounts whose email changed before the reset be
 * adopted as if they had always had it.
 */
export async function clearCheckpoint(store: StateStore, job: string): Promise<void> {
  const saved = await store.load(job).catch(() => undefined);
  await store.clear(job);
  if (!saved) return;
  const fresh = newCheckpoint(job, randomUUID(), new Date());
  fresh.managingSince = managingSinceOf(saved);
  if (saved.history) fresh.history = saved.history;
  await store.save(fresh);
}
