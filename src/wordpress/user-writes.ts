// Creating, updating and finding users over core REST. A batching implementation of
// the same interface can replace this one without the executor noticing.

import { userFields, type WordPressUser } from '../model/wordpress-user.ts';
import { WordPressRequestError } from './errors.ts';
import type { WordPressClient } from './rest-client.ts';

export interface UserWrites {
  /** Sends the create once; the caller decides what a failure means. */
  create(body: Record<string, unknown>): Promise<WordPressUser>;
  update(id: number, patch: Record<string, unknown>): Promise<WordPressUser>;
  /**
   * Deletes for good; their content goes to `reassignTo`. Already gone counts as done. On a
   * multisite network: removed from this site only, the network account kept.
   */
  delete(id: number, reassignTo: number): Promise<void>;
  /** On a network: adds a network user to this site with one role (companion plugin). */
  addMember(id: number, role: string): Promise<void>;
  /** Users whose login or email equals one of these, case-insensitively. */
  findByLoginOrEmail(login: string, email: string): Promise<WordPressUser[]>;
}

const fields = userFields.join(',');

export interface UserWritesOptions {
  /** The site is part of a multisite network: deletes only remove from this site. */
  network?: boolean | undefined;
}

export class RestUserWrites implements UserWrites {
  readonly #client: WordPressClient;
  readonly #network: boolean;

  constructor(client: WordPressClient, options: UserWritesOptions = {}) {
    this.#client = client;
    this.#network = options.network ?? false;
  }

  async addMember(id: number, role: string): Promise<void> {
    await this.#client.request('POST', '/entra-wp-sync/v1/members', { body: { id, role } });
  }

  async create(body: Record<string, unknown>): Promise<WordPressUser> {
    const response = await this.#client.request<WordPressUser>('POST', '/wp/v2/users', {
      query: { context: 'edit', _fields: fields },
      body,
      // A replayed create can make a second account (WordPress has no unique index).
      retry: false,
    });
    return response.data;
  }

  async update(id: number, patch: Record<string, unknown>): Promise<WordPressUser> {
    const response = await this.#client.request<WordPressUser>('POST', `/wp/v2/users/${id}`, {
      query: { context: 'edit', _fields: fields },
      body: patch,
    });
    return response.data;
  }

  async delete(id: number, reassignTo: number): Promise<void> {
    try {
      // Core refuses DELETE on a network; the plugin removes from this site (never the network).
      await this.#client.request(
        'DELETE',
        this.#network ? `/entra-wp-sync/v1/members/${id}` : `/wp/v2/users/${id}`,
        { query: this.#network ? { reassign: reassignTo } : { force: true, reassign: reassignTo } },
      );
    } catch (error) {
      // A retried delete whose first attempt landed finds nobody to delete.
      if (error instanceof WordPressRequestError && error.code === 'rest_user_invalid_id') return;
      throw error;
    }
  }

  async findByLoginOrEmail(login: string, email: string): Promise<WordPressUser[]> {
    const found = new Map<number, WordPressUser>();
    for (const term of new Set([login, email].filter(Boolean))) {
      // `search` matches substrings; keep exact matches only.
      const response = await this.#client.request<WordPressUser[]>('GET', '/wp/v2/users', {
        query: { context: 'edit', search: term, per_page: 100, _fields: fields },
      });
      for (const user of response.data) {
        const sameLogin = user.username.toLowerCase() === login.toLowerCase();
        const sameEmail = email !== '' && user.email.toLowerCase() === email.toLowerCase();
        if (sameLogin || sameEmail) found.set(user.id, user);
      }
    }
    return [...found.values()];
  }
}
