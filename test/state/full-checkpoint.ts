// A checkpoint with every field set, for round trips through the state stores.
import type { Checkpoint } from '../../src/state/checkpoint.ts';

/** Every field set (Required: a field added to the schema must be added here too). */
export function fullCheckpoint(): Required<Checkpoint> {
  return {
    version: 1,
    job: 'staff',
    cycleId: 'cycle-7',
    cycleStartedAt: '2026-11-30T08:00:00.000Z',
    nextLink: 'https://graph.microsoft.com/v1.0/groups/g1/transitiveMembers?$skiptoken=abc',
    listingIndex: 1,
    listingDone: false,
    pagesDone: 3,
    totalCount: 250,
    seen: ['0b1e7c9a-0001', '0b1e7c9a-0002', '0b1e7c9a-0003'],
    counters: { read: 300, created: 12, unchanged: 280, failed: 1 },
    history: [
      {
        runId: '20261129T080000Z-aaaaaa',
        startedAt: '2026-11-29T08:00:00.000Z',
        durationMs: 2663,
        outcome: 'cycle complete',
        counts: { created: 289, skipped: 13 },
      },
      {
        runId: '20261130T080000Z-bbbbbb',
        startedAt: '2026-11-30T08:00:00.000Z',
        durationMs: 431,
        outcome: 'held',
        counts: { held: 40 },
      },
    ],
    deltaLink: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=old',
    mode: 'delta',
    listingSource: '/groups/g1/transitiveMembers\n/groups/g2/transitiveMembers',
    nextDeltaLink: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=new',
    gone: ['0b1e7c9a-0099'],
    recheck: ['0b1e7c9a-0042', '0b1e7c9a-0043'],
    roleMembers: { 'group-editors': ['0b1e7c9a-0001'], 'group-empty': [] },
    managingSince: '2026-11-01T08:00:00.000Z',
    held: {
      runId: '20261130T080000Z-bbbbbb',
      cycleId: 'cycle-7',
      at: '2026-11-30T08:00:05.000Z',
      removals: [{ id: 17, login: 'leaver' }],
      adoptions: [{ objectId: '0b1e7c9a-0003', wordpressId: 23, login: 'jane' }],
    },
    updatedAt: '2026-11-30T08:00:06.000Z',
  };
}
