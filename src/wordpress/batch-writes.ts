// Users writes sent through /batch/v1: calls made at about the same time are gathered
// into one request of up to maxItems. Each item keeps its own outcome, so a failed item
// becomes that user's error (or retry) and never takes the others with it.

import { userFields, type WordPressUser } from '../model/wordpress-user.ts';
import { httpFailure, WordPressRequestError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';
import type { UserWrites } from './user-writes.ts';
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

export class BatchingUserWrites implements UserWrites {
  readonly #client: WordPressClient;
  readonly #maxItems: number;
  readonly #single: RestUserWrites;
  #queue: PendingItem[] = [];
  #scheduled = false;
  batchCount = 0;

  constructor(client: WordPressClient, maxItems: number) {
    this.#client = client;
    this.#maxItems = Math.max(1, maxItems);
    this.#single = new RestUserWrites(client);
  }

  create(body: Record<string, unknown>): Promise<WordPressUser> {
    return this.#enqueue(
      'POST',
      `/wp/v2/users?context=edit&_fields=${fields}`,
      body,
    ) as Promise<WordPressUser>;
  }

  update(id: number, patch: Record<string, unknown>): Promise<WordPressUser> {
    return this.#enqueue(
      'POST',
      `/wp/v2/users/${id}?context=edit&_fields=${fields}`,
      patch,
    ) as Promise<WordPressUser>;
  }

  async delete(id: number, reassignTo: number): Promise<void> {
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

  /**
   * A create that may have landed goes back to its caller, which looks it up before
   * trying again. Updates and deletes can be sent twice safely: after an outage each is
   * sent again on its own, with the client's retries.
   */
  #failed(item: PendingItem, error: unknown): void {
    const create = item.method === 'POST' && !/^\/wp\/v2\/users\/\d+/.test(item.path);
    if (create || !(error instanceof WordPressRequestError && error.transient)) {
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

/** Items per batch the site accepts, from OPTIONS /batch/v1 (25 in core). */
export async function batchLimit(client: WordPressClient): Promise<number> {
  const response = await client.request<{
    endpoints?: Array<{ args?: { requests?: { maxItems?: number } } }>;
  }>('OPTIONS', '/batch/v1');
  return response.data.endpoints?.[0]?.args?.requests?.maxItems ?? 25;
}
