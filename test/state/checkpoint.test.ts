import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  checkpointFrom,
  managingSinceOf,
  newCheckpoint,
} from '../../src/state/checkpoint.ts';
import { CorruptCheckpointError } from '../../src/state/errors.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { fullCheckpoint } from './full-checkpoint.ts';

const directories: string[] = [];

async function store() {
  const directory = await mkdtemp(join(tmpdir(), 'entra-wp-sync-checkpoint-'));
  directories.push(directory);
  return new FileStateStore(directory);
}

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

/** The checkpoint file as JSON, changed by `edit`, written back. */
async function rewrite(files: FileStateStore, edit: (saved: Record<string, unknown>) => void) {
  const saved = JSON.parse(await readFile(files.checkpointPath('staff'), 'utf8')) as Record<string, unknown>;
  edit(saved);
  await writeFile(files.checkpointPath('staff'), JSON.stringify(saved));
}

describe('the checkpoint schema', () => {
  it('loads back every field the run writes, exactly', async () => {
    const files = await store();
    const checkpoint = fullCheckpoint();
    await files.save(checkpoint);
    expect(await files.load('staff')).toStrictEqual(checkpoint);
    // The next save (an append of seen users) and load change nothing either.
    checkpoint.seen.push('0b1e7c9a-0004');
    await files.save(checkpoint);
    expect(await files.load('staff')).toStrictEqual(checkpoint);
  });

  it('loads a checkpoint of the first version, which lacked every later field and carried readErrors', async () => {
    const files = await store();
    await files.save(newCheckpoint('staff', 'cycle-1', new Date()));
    const first = {
      version: 1,
      job: 'staff',
      cycleId: 'cycle-1',
      cycleStartedAt: '2026-11-23T10:00:00.000Z',
      pagesDone: 2,
      seen: ['a', 'b'],
      counters: { read: 2 },
      readErrors: 0,
      updatedAt: '2026-11-23T10:00:01.000Z',
    };
    await writeFile(files.checkpointPath('staff'), JSON.stringify(first));
    const loaded = await files.load('staff');
    // Unknown keys are kept, as they were before the schema: the retired readErrors too.
    expect(loaded).toStrictEqual(first);
    expect(managingSinceOf(loaded!)).toBe('2026-11-23T10:00:00.000Z');
  });

  it('loads a checkpoint the last version wrote (readErrors, history, no mode), and saves its keys back', async () => {
    const files = await store();
    await files.save(newCheckpoint('staff', 'cycle-1', new Date()));
    const written =
      '{"version":1,"job":"staff","cycleId":"336bcbab-511f-4d6a-a1b6-0d9b33d7e2d0","cycleStartedAt":"2026-12-01T09:16:35.719Z","pagesDone":0,"counters":{},"readErrors":0,"managingSince":"2026-12-01T09:16:33.056Z","updatedAt":"2026-12-01T09:16:35.719Z","listingSource":"/users?$select=id&$top=100&$count=true","history":[{"runId":"20261201T091632Z-201a27","startedAt":"2026-12-01T09:16:33.056Z","durationMs":2663,"outcome":"cycle complete","counts":{"skipped":13,"created":289,"avatars":12,"failed":2}}],"seenCount":0}';
    await writeFile(files.checkpointPath('staff'), written);
    const { seenCount: _, ...expected } = { ...JSON.parse(written), seen: [] };
    const loaded = (await files.load('staff'))!;
    expect(loaded).toStrictEqual(expected);
    await files.save(loaded);
    expect(JSON.parse(await readFile(files.checkpointPath('staff'), 'utf8'))).toEqual(JSON.parse(written));
  });

  it('keeps keys it does not know, at every level, through a load and a save', async () => {
    const files = await store();
    await files.save(fullCheckpoint());
    await rewrite(files, (saved) => {
      saved.fromNewerVersion = { nested: true };
      (saved.held as { adoptions: Array<Record<string, unknown>> }).adoptions[0]!.email = 'jane@example.com';
    });
    const loaded = (await files.load('staff')) as Checkpoint & { fromNewerVersion?: unknown };
    expect(loaded.fromNewerVersion).toEqual({ nested: true });
    expect(loaded.held?.adoptions[0]).toEqual({
      objectId: '0b1e7c9a-0003',
      wordpressId: 23,
      login: 'jane',
      email: 'jane@example.com',
    });
    await files.save(loaded);
    expect(await files.load('staff')).toStrictEqual(loaded);
  });

  it("reads PHP's [] for an empty object as {}", () => {
    const { seen, ...rest } = fullCheckpoint();
    const fromSite = {
      ...rest,
      seen,
      counters: [],
      roleMembers: [],
      history: [{ ...rest.history[0], counts: [] }],
    };
    const loaded = checkpointFrom(fromSite, 'staff', 'site');
    expect(loaded.counters).toStrictEqual({});
    expect(loaded.roleMembers).toStrictEqual({});
    expect(loaded.history?.[0]?.counts).toStrictEqual({});
  });

  it.each<[string, (saved: Record<string, unknown>) => void, string]>([
    ['pagesDone as text', (saved) => (saved.pagesDone = '3'), 'pagesDone: expected number, received string'],
    ['a negative pagesDone', (saved) => (saved.pagesDone = -1), 'pagesDone: expected number to be >=0'],
    [
      'seen that is not a list',
      (saved) => {
        delete saved.seenCount;
        saved.seen = 'a,b';
      },
      'seen: expected array, received string',
    ],
    ['an unknown mode', (saved) => (saved.mode = 'partial'), 'mode: expected one of "full"|"delta"'],
    ['counters null', (saved) => (saved.counters = null), 'counters: expected record, received null'],
    ['a version from the future', (saved) => (saved.version = 2), 'version: expected 1'],
    ['no cycle', (saved) => delete saved.cycleId, 'cycleId: expected string, received undefined'],
    [
      'a run of its history with an unknown outcome',
      (saved) => ((saved.history as Array<Record<string, unknown>>)[1]!.outcome = 'great'),
      'history[1].outcome: expected one of',
    ],
    [
      'a held adoption whose WordPress id is text',
      (saved) =>
        ((saved.held as { adoptions: Array<Record<string, unknown>> }).adoptions[0]!.wordpressId = '23'),
      'held.adoptions[0].wordpressId: expected number, received string',
    ],
    [
      'a managingSince that is no date',
      (saved) => (saved.managingSince = 'last spring'),
      'managingSince: expected a date and time',
    ],
    [
      'the job of another',
      (saved) => (saved.job = 'contractors'),
      'job: expected "staff", found "contractors"',
    ],
  ])(
    'refuses a checkpoint with %s, naming the field and what it should be',
    async (_what, damage, detail) => {
      const files = await store();
      await files.save(fullCheckpoint());
      await rewrite(files, damage);
      const error = await files.load('staff').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      const { message, hint } = error as CorruptCheckpointError;
      expect(message).toContain(
        `The checkpoint of job "staff" at ${files.checkpointPath('staff')} is damaged (`,
      );
      expect(message).toContain(detail);
      expect(hint).toContain('entra-wp-sync state reset --job staff');
    },
  );

  it('says what a value that is no checkpoint at all is', () => {
    expect(() => checkpointFrom([1, 2, 3], 'staff', 'here')).toThrow(
      'is damaged (the checkpoint: expected object, received array)',
    );
  });
});
