// Checkpoints and the run lock kept in the WordPress site through the companion plugin,
// so a scheduled GitHub workflow needs no cache juggling.
import { WordPressRequestError } from '../wordpress/errors.ts';
import type { WordPressClient } from '../wordpress/rest-client.ts';
import { type Checkpoint, isCheckpoint } from './checkpoint.ts';
import { CorruptCheckpointError, JobAlreadyRunningError } from './errors.ts';
import type { LockOwner, RunLock, StateStore } from './state-store.ts';

interface LockHolder {
  runId: string;
  host: string;
  startedAt: string;
  expiresAt: number;
}

export class WordPressStateStore implements StateStore {
  readonly description: string;
  readonly #client: WordPressClient;
  #runId = '';

  constructor(client: WordPressClient) {
    this.#client = client;
    this.description = `site ${client.siteUrl} (companion plugin)`;
  }

  async load(job: string): Promise<Checkpoint | undefined> {
    const response = await this.#client.request<{ checkpoint: unknown }>(
      'GET',
      `/entra-wp-sync/v1/state/${job}`,
    );
    const checkpoint = response.data.checkpoint;
    if (checkpoint === null || checkpoint === undefined) return undefined;
    if (!isCheckpoint(checkpoint) || checkpoint.job !== job) {
      throw new CorruptCheckpointError(job, this.description, 'unexpected content');
    }
    // PHP stores an empty object as []; counters added to an array would not be saved.
    if (Array.isArray(checkpoint.counters)) checkpoint.counters = {};
    if (Array.isArray(checkpoint.roleMembers)) checkpoint.roleMembers = {};
    return checkpoint;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    // Saving also keeps this run's lock alive on the site.
    await this.#client.request('PUT', `/entra-wp-sync/v1/state/${checkpoint.job}`, {
      body: { checkpoint, runId: this.#runId },
    });
  }

  async clear(job: string): Promise<void> {
    await this.#client.request('DELETE', `/entra-wp-sync/v1/state/${job}`);
  }

  async lock(job: string, owner: LockOwner): Promise<RunLock> {
    try {
      await this.#client.request('POST', `/entra-wp-sync/v1/lock/${job}`, {
        body: { runId: owner.runId, host: owner.host, startedAt: owner.startedAt },
      });
    } catch (error) {
      if (error instanceof WordPressRequestError && error.status === 409) {
        const holder = (error.details as { holder?: LockHolder } | undefined)?.holder;
        const until = holder ? new Date(holder.expiresAt * 1000).toISOString() : 'soon';
        throw new JobAlreadyRunningError(
          job,
          holder ? `run ${holder.runId} on ${holder.host}, since ${holder.startedAt}` : 'another run',
          `${this.description}; an abandoned lock expires by itself at ${until}`,
        );
      }
      throw error;
    }
    this.#runId = owner.runId;
    return {
      release: async () => {
        await this.#client
          .request('DELETE', `/entra-wp-sync/v1/lock/${job}`, { body: { runId: owner.runId } })
          .catch(() => undefined);
      },
    };
  }
}
