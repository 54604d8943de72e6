import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newCheckpoint } from '../../src/state/checkpoint.ts';
import { CorruptCheckpointError, JobAlreadyRunningError } from '../../src/state/errors.ts';
import { FileStateStore } from '../../src/state/file-store.ts';

const directories: string[] = [];

async function store() {
  const directory = await mkdtemp(join(tmpdir(), 'entra-wp-sync-state-'));
  directories.push(directory);
  return new FileStateStore(directory);
}

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

const owner = (pid: number) => ({ runId: 'r1', pid, host: hostname(), startedAt: new Date().toISOString() });

describe('FileStateStore', () => {
  it('saves a checkpoint and loads it back', async () => {
    const files = await store();
    const checkpoint = newCheckpoint('staff', 'cycle-1', new Date());
    checkpoint.nextLink = 'https://graph.example/v1.0/users?$skiptoken=abc';
    checkpoint.seen = ['a', 'b'];
    await files.save(checkpoint);
    expect(await files.load('staff')).toEqual(checkpoint);
    expect(await files.load('other')).toBeUndefined();
  });

  it('appends seen users page by page, rewrites them for a new cycle, and refuses a short list', async () => {
    const files = await store();
    const checkpoint = newCheckpoint('staff', 'cycle-1', new Date());
    checkpoint.seen.push('a', 'b');
    await files.save(checkpoint);
    const firstWrite = await stat(files.seenPath('staff'));
    checkpoint.seen.push('c');
    await files.save(checkpoint);
    expect(await readFile(files.seenPath('staff'), 'utf8')).toBe('a\nb\nc\n');
    // Appended to the same file, not written aside and renamed over it.
    expect((await stat(files.seenPath('staff'))).ino).toBe(firstWrite.ino);
    expect(JSON.parse(await readFile(files.checkpointPath('staff'), 'utf8'))).not.toHaveProperty('seen');
    // Ids appended by a run killed before its checkpoint was saved are not counted.
    await writeFile(files.seenPath('staff'), 'a\nb\nc\nd\n');
    const reloaded = (await files.load('staff'))!;
    expect(reloaded.seen).toEqual(['a', 'b', 'c']);
    reloaded.seen.push('e');
    await files.save(reloaded);
    expect(await readFile(files.seenPath('staff'), 'utf8')).toBe('a\nb\nc\ne\n');

    const next = newCheckpoint('staff', 'cycle-2', new Date());
    next.seen.push('z');
    await files.save(next);
    expect(await readFile(files.seenPath('staff'), 'utf8')).toBe('z\n');

    await writeFile(files.seenPath('staff'), '');
    const error = await files.load('staff').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect(String((error as Error).message) + String((error as CorruptCheckpointError).hint ?? '')).toContain(
      'state reset',
    );
  });

  it('refuses a damaged checkpoint with advice instead of starting over silently', async () => {
    const files = await store();
    await files.save(newCheckpoint('staff', 'cycle-1', new Date()));
    const text = await readFile(files.checkpointPath('staff'), 'utf8');
    await writeFile(files.checkpointPath('staff'), text.slice(0, text.length / 2));
    const error = await files.load('staff').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as CorruptCheckpointError).hint).toContain('state reset --job staff');
  });

  it.each([
    ['counters null', { counters: null }],
    ['counters a list of numbers', { counters: [1, 2] }],
    ['pagesDone as text', { pagesDone: '3' }],
    ['a negative pagesDone', { pagesDone: -1 }],
    ['listingDone as text', { listingDone: 'yes' }],
    ['an unknown mode', { mode: 'partial' }],
    ['history that is not a list', { history: 'x' }],
    ['a version from the future', { version: 2 }],
  ])('refuses a checkpoint with %s before anything runs on it', async (_what, damage) => {
    const files = await store();
    await files.save(newCheckpoint('staff', 'cycle-1', new Date()));
    const saved = JSON.parse(await readFile(files.checkpointPath('staff'), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(files.checkpointPath('staff'), JSON.stringify({ ...saved, ...damage }));
    const error = await files.load('staff').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as CorruptCheckpointError).message).toContain(files.checkpointPath('staff'));
  });

  it('lets only one live run hold a job, and takes over the lock of a dead one', async () => {
    const files = await store();
    const lock = await files.lock('staff', owner(process.pid));
    const second = await files.lock('staff', owner(process.pid)).catch((caught: unknown) => caught);
    expect(second).toBeInstanceOf(JobAlreadyRunningError);
    expect((second as Error).message).toContain('Job "staff" is already running');
    await lock.release();
    // A lock left by a process that no longer exists (kill -9) is stale.
    await writeFile(files.lockPath('staff'), JSON.stringify(owner(2 ** 22 + 12345)));
    const taken = await files.lock('staff', owner(process.pid));
    await taken.release();
  });

  it('removes the temporary files a killed run of the job left, and only those', async () => {
    const files = await store();
    const leftovers = ['staff.checkpoint.json.0a1b2c3d.tmp', 'staff.seen.ffee0011.tmp'];
    const others = ['alumni.checkpoint.json.0a1b2c3d.tmp', 'staff.checkpoint.json', 'notes.tmp'];
    for (const file of [...leftovers, ...others]) await writeFile(join(files.directory, file), 'x');
    const lock = await files.lock('staff', owner(process.pid));
    await lock.release();
    expect((await readdir(files.directory)).sort()).toEqual([...others].sort());
  });
});
