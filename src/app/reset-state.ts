// Clears a job's checkpoint wherever it is kept (directory or WordPress site).
import { randomUUID } from 'node:crypto';
import type { Env } from '../config/env.ts';
import type { ResolvedJob } from '../config/resolve.ts';
import { managingSinceOf, newCheckpoint } from '../state/checkpoint.ts';
import { FileStateStore } from '../state/file-store.ts';
import type { StateStore } from '../state/state-store.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import { stateStoreFor, wordpressClientFor } from './connections.ts';

/** The job's state store and, for the WordPress backend, the client to close afterwards. */
export async function openStateStore(
  job: ResolvedJob,
  env: Env,
): Promise<{ store: StateStore; where: string; close: () => Promise<void> }> {
  let client: WordPressClient | undefined;
  const store = stateStoreFor(job, () => {
    client = wordpressClientFor(job, env);
    return client;
  });
  // The state routes are the companion plugin's: without it, say so before anything else.
  await client?.discoverRoutes('/entra-wp-sync/v1/info');
  const where = store instanceof FileStateStore ? store.checkpointPath(job.name) : store.description;
  return { store, where, close: async () => client?.close() };
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
