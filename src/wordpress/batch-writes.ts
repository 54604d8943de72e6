// Users writes sent through /batch/v1: calls made at about the same time are gathered
// into one request of up to maxItems. Each item keeps its own outcome, so a failed item
// becomes that user's error (or retry) and never takes the others with it. Where the site
// refuses /batch/v1 itself (a security plugin, a firewall), every write from then on goes
// as a single request.

import pLimit, { type LimitFunction } from 'p-limit';
import { userFields, type WordPressUser } from '../model/wordpress-user.ts';
import { httpFailure, WordPressError, WordPressRequestError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';
import type { UserWrites, UserWritesOptions } from './user-writes.ts';
import { RestUserWrites } from './user-writes.ts';

interface PendingItem {
  method: 'POST' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface BatchAnswer {
  responses?: Array<{ status: number; body: unknown }>;
}

const fields = userFields.join(',');

/**
 * Answers to a whole /batch/v1 request that mean none of its items ran: refused (403),
 * removed (404 rest_no_route), a method the server does not take (405), too large for a
 * firewall (413), or not offered (400, 501). Its items can be sent on their own, creates too.
 */
const batchRefusedStatuses = new Set([400, 403, 404, 405, 413, 501]);

export interface BatchingOptions extends UserWritesOptions {
  /** Single requests in flight once the site refused a batch (default 4). */
  singleConcurrency?: number;
  /** Told once, with WordPress's answer, when the writes fall back to single requests. */
  onBatchRefused?: (error: WordPressRequestError) => void;
}

export class BatchingUserWrites implements UserWrites {
  readonly #client: WordPressClient;
  readonly #maxItems: number;
  readonly #single: RestUserWrites;
  readonly #singleLimit: LimitFunction;
  readonly #onBatchRefused: ((error: WordPressRequestError) => void) | undefined;
  #queue: PendingItem[] = [];
  #scheduled = false;
  /** The site refused a batch: everything goes as single requests. */
  #refused = false;
  batchCount = 0;

  readonly #network: boolean;

  constructor(client: WordPressClient, maxItems: number, options: BatchingOptions = {}) {
    this.#client = client;
    this.#maxItems = Math.max(1, maxItems);
    this.#network = options.network ?? false;
    this.#single = new RestUserWrites(client, { network: this.#network });
    this.#singleLimit = pLimit(options.singleConcurrency ?? 4);
    this.#onBatchRefused = options.onBatchRefused;
  }

  create(body: Record<string, unknown>): Promise<WordPressUser> {
    if (this.#refused) return this.#singleLimit(() => this.#single.create(body));
    return this.#enqueue(
      'POST',
      `/wp/v2/users?context=edit&_fields=${fields}`,
      body,
    ) as Promise<WordPressUser>;
  }

  update(id: number, patch: Record<string, unknown>): Promise<WordPressUser> {
    if (this.#refused) return this.#singleLimit(() => this.#single.update(id, patch));
    return this.#enqueue(
      'POST',
      `/wp/v2/users/${id}?context=edit&_fields=${fields}`,
      patch,
    ) as Promise<WordPressUser>;
  }

  addMember(id: number, role: string): Promise<void> {
    return this.#single.addMember(id, role);
  }

  async delete(id: number, reassignTo: number): Promise<void> {
    // A network's removals go through the plugin's route, outside /batch/v1.
    if (this.#refused || this.#network) return this.#singleLimit(() => this.#single.delete(id, reassignTo));
    try {
      await this.#enqueue('DELETE', `/wp/v2/users/${id}?force=true&reassign=${reassignTo}`);
    } catch (error) {
      if (error instanceof WordPressRequestError && error.code === 'rest_user_invalid_id') return;
      throw error;
    }
  }

  findByLoginOrEmail(login: string, email: string): Promise<WordPressUser[]> {
    return this.#single.findByLoginOrEmail(login, email);
  }

  #enqueue(method: PendingItem['method'], path: string, body?: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ method, path, ...(body ? { body } : {}), resolve, reject });
      if (this.#queue.length >= this.#maxItems) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        // Everything the executor starts in this turn of the event loop goes together.
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    while (this.#queue.length > 0) {
      const items = this.#queue.splice(0, this.#maxItems);
      void this.#send(items);
    }
  }

  async #send(items: PendingItem[]): Promise<void> {
    this.batchCount++;
    let answer: BatchAnswer;
    try {
      // Not replayed as a whole: a create in it may have landed; each caller decides.
      const response = await this.#client.request<BatchAnswer>('POST', '/batch/v1', {
        body: {
          validation: 'normal',
          requests: items.map((item) => ({
            method: item.method,
            path: item.path,
            ...(item.body ? { body: item.body } : {}),
          })),
        },
        retry: false,
      });
      answer = response.data;
    } catch (error) {
      if (error instanceof WordPressRequestError && batchRefusedStatuses.has(error.status)) {
        this.#fallBack(error);
        for (const item of items) this.#sendAlone(item);
        return;
      }
      for (const item of items) this.#failed(item, error);
      return;
    }
    items.forEach((item, index) => {
      const result = answer.responses?.[index];
      if (!result) {
        this.#failed(
          item,
          new WordPressRequestError('WordPress answered the batch without this request.', {
            status: 0,
            code: 'batch_missing_item',
            transient: true,
          }),
        );
      } else if (result.status < 400) {
        item.resolve(result.body);
      } else {
        this.#failed(
          item,
          httpFailure(
            result.status,
            result.body,
            item.method,
            this.#client.routeUrl(item.path.split('?')[0]!),
            this.#client.username,
          ),
        );
      }
    });
  }

  #fallBack(error: WordPressRequestError): void {
    if (this.#refused) return;
    this.#refused = true;
    this.#onBatchRefused?.(error);
  }

  /** An item of a batch the site refused as a whole: none of it ran, so it is sent as it was. */
  #sendAlone(item: PendingItem): void {
    const [route, query] = item.path.split('?');
    this.#singleLimit(() =>
      this.#client.request(item.method, route!, {
        query: Object.fromEntries(new URLSearchParams(query ?? '')),
        ...(item.body ? { body: item.body } : {}),
        // A create is sent once, as RestUserWrites sends it; its caller looks for it after a failure.
        retry: !isCreate(item),
      }),
    ).then(
      (response) => item.resolve(response.data),
      (error: unknown) => {
        if (
          item.method === 'DELETE' &&
          error instanceof WordPressRequestError &&
          error.code === 'rest_user_invalid_id'
        )
          item.resolve(undefined);
        else item.reject(error);
      },
    );
  }

  /**
   * A create that may have landed goes back to its caller, which looks it up before
   * trying again. Updates and deletes can be sent twice safely: after an outage each is
   * sent again on its own, with the client's retries.
   */
  #failed(item: PendingItem, error: unknown): void {
    if (isCreate(item) || !(error instanceof WordPressRequestError && error.transient)) {
      item.reject(error);
      return;
    }
    const [route, query] = item.path.split('?');
    this.#client
      .request(item.method, route!, {
        query: Object.fromEntries(new URLSearchParams(query ?? '')),
        ...(item.body ? { body: item.body } : {}),
      })
      .then((response) => item.resolve(response.data), item.reject);
  }
}

function isCreate(item: PendingItem): boolean {
  return item.method === 'POST' && !/^\/wp\/v2\/users\/\d+/.test(item.path);
}

/** Items per batch the site accepts, from OPTIONS /batch/v1 (25 in core). */
export async function batchLimit(client: WordPressClient): Promise<number> {
  const response = await client.request<{
    endpoints?: Array<{ args?: { requests?: { maxItems?: number } } }>;
  }>('OPTIONS', '/batch/v1');
  const endpoint = response.data.endpoints?.[0];
  // WordPress answers OPTIONS for a route it does not have with 200 and an empty list.
  if (!endpoint) {
    throw new WordPressError(
      `the site's REST API has no /batch/v1 route (its OPTIONS answer describes none; a plugin or a rest_endpoints filter removes it)`,
    );
  }
  return endpoint.args?.requests?.maxItems ?? 25;
}
