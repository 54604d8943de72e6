// Checkpoints and the run lock kept in the WordPress site through the companion plugin,
// so a scheduled GitHub workflow needs no cache juggling.
//
// The lock is a lease of 2 minutes on the site: a run renews it with every checkpoint it
// saves and from a heartbeat in between (long phases save nothing for minutes), so a run
// killed outright blocks the job for at most that long.
//
// The cycle's seen object IDs (100,000 on a big tenant, some 4 MB) are kept by the plugin
// apart from the checkpoint: each save sends only the IDs added since the last one, and
// the plugin refuses an append that does not continue exactly the list it holds.
import type { Env } from '../config/env.ts';
import { readVariable, variableDefault } from '../config/environment.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import { WordPressRequestError } from '../wordpress/errors.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import { type Checkpoint, checkpointFrom } from './checkpoint.ts';
import { CorruptCheckpointError, JobAlreadyRunningError, LockLostError } from './errors.ts';
import type { LockHolder, LockOwner } from './lock-owner.ts';
import type { RunLock, StateStore } from './state-store.ts';

/** A lock as the plugin stores it: expiresAt in Unix seconds. */
interface SiteLock {
  runId: string;
  pid?: number;
  host?: string;
  startedAt?: string;
  runUrl?: string;
  expiresAt?: number;
}

/** How much of a cycle's seen list the site holds, as the file backend tracks its side file. */
interface SeenProgress {
  cycleId: string;
  /** The list saved last time: a cycle that grows it by push is appended, any other sent whole. */
  list: readonly string[];
  count: number;
}

export interface WordPressStateOptions {
  /** How often a held lease is renewed between checkpoint saves (default every 30 s). */
  renewEveryMs?: number | undefined;
}

/** 30 s: well under the plugin's 2-minute lease, or a live run could lose its job. */
export const defaultLeaseRenewMs = variableDefault('ENTRA_WP_SYNC_LEASE_RENEW_MS');

/**
 * ENTRA_WP_SYNC_LEASE_RENEW_MS: the heartbeat's interval in milliseconds (tests shorten
 * it); the table refuses a value over the default, which would risk the lease.
 */
export function leaseRenewMsFrom(env: Env): number {
  return readVariable(env, 'ENTRA_WP_SYNC_LEASE_RENEW_MS');
}

export class WordPressStateStore implements StateStore {
  readonly description: string;
  readonly #client: WordPressClient;
  readonly #renewEveryMs: number;
  readonly #seenSaved = new Map<string, SeenProgress>();
  #runId = '';
  #lost: AbortController | undefined;

  constructor(client: WordPressClient, options: WordPressStateOptions = {}) {
    this.#client = client;
    this.#renewEveryMs = options.renewEveryMs ?? defaultLeaseRenewMs;
    this.description = `site ${client.siteUrl} (companion plugin)`;
  }

  async load(job: string): Promise<Checkpoint | undefined> {
    const response = await this.#client.request<{ checkpoint: unknown; seenCount?: unknown }>(
      'GET',
      `/entra-wp-sync/v1/state/${job}`,
    );
    const { checkpoint, seenCount } = response.data;
    this.#seenSaved.delete(job);
    if (checkpoint === null || checkpoint === undefined) return undefined;
    if (typeof seenCount === 'number' && !Array.isArray((checkpoint as { seen?: unknown }).seen)) {
      throw new CorruptCheckpointError(
        job,
        this.description,
        `the site's list of users seen in this cycle does not hold the ${seenCount} the checkpoint counts`,
      );
    }
    // The schema reads PHP's [] for an empty object as {}: counters added to an array would not be saved.
    const loaded = checkpointFrom(checkpoint, job, this.description);
    // The site holds exactly these IDs (it checks the count before every append), so the
    // next save of this cycle appends to them.
    if (seenCount === loaded.seen.length) this.#trackSeen(loaded);
    return loaded;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    // A run that lost its lease writes nothing more: the checkpoint is the other run's now.
    if (this.#lost?.signal.aborted) throw this.#lost.signal.reason;
    try {
      if (await this.#appendSeen(checkpoint)) return;
      // Saving also keeps this run's lock alive on the site.
      const response = await this.#client.request<{ seenCount?: unknown }>(
        'PUT',
        `/entra-wp-sync/v1/state/${checkpoint.job}`,
        { body: { checkpoint, runId: this.#runId } },
      );
      // A plugin that keeps the seen list apart says how many it holds; an older one keeps
      // it in the checkpoint, and is sent the whole list every time.
      if (response.data.seenCount === checkpoint.seen.length) this.#trackSeen(checkpoint);
      else this.#seenSaved.delete(checkpoint.job);
    } catch (error) {
      throw this.#lostIfTakenOver(checkpoint.job, error);
    }
  }

  /** Sends the IDs seen since the last save, when the site holds the ones before; false when it cannot. */
  async #appendSeen(checkpoint: Checkpoint): Promise<boolean> {
    const saved = this.#seenSaved.get(checkpoint.job);
    if (
      saved?.cycleId !== checkpoint.cycleId ||
      saved.list !== checkpoint.seen ||
      saved.count > checkpoint.seen.length
    ) {
      return false;
    }
    const { seen, ...rest } = checkpoint;
    try {
      await this.#client.request('PUT', `/entra-wp-sync/v1/state/${checkpoint.job}`, {
        body: {
          checkpoint: rest,
          runId: this.#runId,
          seenAppend: seen.slice(saved.count),
          seenCount: seen.length,
        },
      });
    } catch (error) {
      // The site's list does not end where this save continues it (a save whose answer was
      // lost and retried, a run killed between its two writes): the whole list goes once.
      if (error instanceof WordPressRequestError && error.code === 'entra_wp_sync_seen_mismatch') {
        this.#seenSaved.delete(checkpoint.job);
        return false;
      }
      throw error;
    }
    this.#trackSeen(checkpoint);
    return true;
  }

  #trackSeen(checkpoint: Checkpoint): void {
    this.#seenSaved.set(checkpoint.job, {
      cycleId: checkpoint.cycleId,
      list: checkpoint.seen,
      count: checkpoint.seen.length,
    });
  }

  async clear(job: string): Promise<void> {
    await this.#client.request('DELETE', `/entra-wp-sync/v1/state/${job}`);
    this.#seenSaved.delete(job);
  }

  async lock(job: string, owner: LockOwner): Promise<RunLock> {
    const body = lockRequest(owner);
    try {
      await this.#client.request('POST', `/entra-wp-sync/v1/lock/${job}`, { body });
    } catch (error) {
      if (error instanceof WordPressRequestError && error.status === 409) {
        throw new JobAlreadyRunningError(job, holderIn(error.details), this.description);
      }
      throw error;
    }
    this.#runId = owner.runId;
    const lost = new AbortController();
    this.#lost = lost;
    let renewing: Promise<void> | undefined;
    const renew = async () => {
      try {
        await this.#client.request('POST', `/entra-wp-sync/v1/lock/${job}`, { body });
      } catch (error) {
        this.#lostIfTakenOver(job, error);
        // Otherwise (WordPress briefly unreachable) the next beat tries again: the lease
        // outlasts three missed ones.
      }
    };
    const heartbeat = setInterval(() => {
      if (lost.signal.aborted) clearInterval(heartbeat);
      else renewing ??= renew().finally(() => (renewing = undefined));
    }, this.#renewEveryMs);
    // The heartbeat alone never keeps the process alive.
    heartbeat.unref();
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(heartbeat);
        // A renewal landing after the release would take the lock again.
        await renewing;
        if (lost.signal.aborted) return;
        await this.#client
          .request('DELETE', `/entra-wp-sync/v1/lock/${job}`, { body: { runId: owner.runId } })
          .catch(() => undefined);
      },
    };
  }

  async unlock(job: string): Promise<LockHolder | undefined> {
    const response = await this.#client.request<{ released?: unknown; holder?: unknown }>(
      'DELETE',
      `/entra-wp-sync/v1/lock/${job}`,
      { body: { force: true } },
    );
    if (!('holder' in response.data)) {
      throw new ActionableError(
        `The companion plugin on ${this.#client.siteUrl} cannot free a lock by hand.`,
        {
          exitCode: ExitCode.usage,
          hint: 'Copy the current wordpress-plugin/entra-wp-sync.php into wp-content/mu-plugins/ on the site; until then a lock frees by itself when its lease runs out.',
        },
      );
    }
    return holderIn(response.data);
  }

  /**
   * When WordPress says another run holds the job now, the lock is lost: the run's `lost`
   * signal aborts, and the error to throw says so. Any other error is returned as it is.
   */
  #lostIfTakenOver(job: string, error: unknown): unknown {
    if (!(error instanceof WordPressRequestError) || error.status !== 409) return error;
    if (error.code !== 'entra_wp_sync_lock_lost' && !isLockRefusal(error.details)) return error;
    const lost = new LockLostError(job, holderIn(error.details));
    if (this.#lost && !this.#lost.signal.aborted) this.#lost.abort(lost);
    return this.#lost?.signal.reason ?? lost;
  }
}

function lockRequest(owner: LockOwner): Record<string, string | number> {
  return {
    runId: owner.runId,
    pid: owner.pid,
    host: owner.host,
    startedAt: owner.startedAt,
    ...(owner.runUrl ? { runUrl: owner.runUrl } : {}),
  };
}

/** POST /lock answers a refusal with { acquired: false, holder }. */
function isLockRefusal(details: unknown): boolean {
  return (
    typeof details === 'object' && details !== null && (details as { acquired?: unknown }).acquired === false
  );
}

/** The holder in a lock answer: { holder } from the lock routes, { data: { holder } } from a WP_Error. */
function holderIn(details: unknown): LockHolder | undefined {
  const body = details as { holder?: unknown; data?: { holder?: unknown } } | undefined;
  const value = (body?.holder ?? body?.data?.holder) as SiteLock | null | undefined;
  if (!value || typeof value !== 'object' || typeof value.runId !== 'string') return undefined;
  return {
    runId: value.runId,
    pid: typeof value.pid === 'number' ? value.pid : 0,
    host: typeof value.host === 'string' ? value.host : '',
    startedAt: typeof value.startedAt === 'string' ? value.startedAt : '',
    ...(typeof value.runUrl === 'string' && value.runUrl ? { runUrl: value.runUrl } : {}),
    ...(typeof value.expiresAt === 'number'
      ? { expiresAt: new Date(value.expiresAt * 1000).toISOString() }
      : {}),
  };
}
