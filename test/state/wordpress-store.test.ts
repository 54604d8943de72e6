// The checkpoint through the companion plugin: PHP decodes JSON into arrays and encodes
// them again, which must not change a checkpoint, nor let a damaged one through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCheckpoint } from '../../src/state/checkpoint.ts';
import { CorruptCheckpointError } from '../../src/state/errors.ts';
import { WordPressStateStore } from '../../src/state/wordpress-store.ts';
import { WordPressClient } from '../../src/wordpress/rest-client.ts';
import { runPhpOnSite, useWordPressSite } from '../support/wordpress-site.ts';
import { fullCheckpoint } from './full-checkpoint.ts';

let client: WordPressClient;
let store: WordPressStateStore;

beforeAll(async () => {
  const site = await useWordPressSite();
  client = new WordPressClient({
    url: site.url,
    username: site.adminUser,
    applicationPassword: site.appPassword,
  });
  await client.discoverRoutes('/entra-wp-sync/v1/info');
  store = new WordPressStateStore(client);
});

afterAll(async () => {
  await client?.close();
});

describe('checkpoints in the WordPress site', () => {
  it('loads back every field the run writes, exactly, also after an append of seen users', async () => {
    const checkpoint = fullCheckpoint();
    await store.save(checkpoint);
    expect(await store.load('staff')).toStrictEqual(checkpoint);
    checkpoint.seen.push('0b1e7c9a-0004');
    checkpoint.pagesDone = 4;
    await store.save(checkpoint);
    expect(await store.load('staff')).toStrictEqual(checkpoint);
  });

  it('loads empty maps back as {}, though the site keeps them as []', async () => {
    const checkpoint = newCheckpoint('staff', 'cycle-1', new Date('2026-12-01T08:00:00Z'));
    checkpoint.roleMembers = {};
    checkpoint.history = [
      { runId: 'r1', startedAt: '2026-12-01T08:00:00.000Z', durationMs: 5, outcome: 'continues', counts: {} },
    ];
    await store.save(checkpoint);
    const stored = JSON.parse(await runPhpOnSite(`echo get_option('entra_wp_sync_state_staff');`));
    expect(stored.counters).toEqual([]);
    const { nextLink: _, totalCount: __, ...expected } = checkpoint;
    expect(await store.load('staff')).toStrictEqual(expected);
  });

  it('refuses a damaged checkpoint, naming the site, the field and `state reset`', async () => {
    await store.save(fullCheckpoint());
    await runPhpOnSite(`
      $checkpoint = json_decode(get_option('entra_wp_sync_state_staff'), true);
      $checkpoint['pagesDone'] = 'three';
      update_option('entra_wp_sync_state_staff', wp_json_encode($checkpoint), false);
    `);
    const error = await store.load('staff').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as Error).message).toContain(
      `The checkpoint of job "staff" at ${store.description} is damaged (pagesDone: expected number, received string)`,
    );
    expect((error as CorruptCheckpointError).hint).toContain('entra-wp-sync state reset --job staff');
  });
});
