// Checkpoints as JSON files in a directory: written to a temporary file, flushed and
// renamed, so a crash leaves either the old or the new checkpoint, never half of one.
// The cycle's seen object IDs (100,000 on a big tenant) go to a side file that grows by
// appending: rewriting them with every page would churn megabytes per page.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Checkpoint, checkpointFrom } from './checkpoint.ts';
import { CorruptCheckpointError, JobAlreadyRunningError } from './errors.ts';
import type { LockHolder, LockOwner } from './lock-owner.ts';
import type { RunLock, StateStore } from './state-store.ts';

/** How much of a cycle's seen list is already in the side file. */
interface SeenProgress {
  cycleId: string;
  /** The list saved last time: a cycle that grows it by push is appended, any other rewritten. */
  list: readonly string[];
  count: number;
}

export class FileStateStore implements StateStore {
  readonly directory: string;
  readonly description: string;
  readonly #seenWritten = new Map<string, SeenProgress>();

  constructor(directory: string) {
    this.directory = directory;
    this.description = `directory ${directory}`;
  }

  checkpointPath(job: string): string {
    return join(this.directory, `${job}.checkpoint.json`);
  }

  seenPath(job: string): string {
    return join(this.directory, `${job}.seen`);
  }

  lockPath(job: string): string {
    return join(this.directory, `${job}.lock`);
  }

  async load(job: string): Promise<Checkpoint | undefined> {
    const path = this.checkpointPath(job);
    const text = await readIfExists(path);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CorruptCheckpointError(job, path, 'not valid JSON');
    }
    const seenCount = (value as { seenCount?: unknown } | null)?.seenCount;
    if (typeof seenCount === 'number' && typeof value === 'object') {
      (value as Checkpoint).seen = await this.#readSeen(job, seenCount);
    }
    const checkpoint = checkpointFrom(value, job, path);
    delete (checkpoint as { seenCount?: number }).seenCount;
    // The side file may hold ids appended after this checkpoint: the next save rewrites it.
    this.#seenWritten.delete(job);
    return checkpoint;
  }

  async #readSeen(job: string, count: number): Promise<string[]> {
    const path = this.seenPath(job);
    const text = (await readIfExists(path)) ?? '';
    const ids = text.split('\n').filter(Boolean);
    if (ids.length < count || !Number.isInteger(count) || count < 0) {
      throw new CorruptCheckpointError(
        job,
        path,
        `lists ${ids.length} seen users where the checkpoint counts ${count}`,
      );
    }
    return ids.slice(0, count);
  }

  /**
   * Appends the ids seen since the last save; a new cycle (or a reload) writes the file
   * afresh, aside and renamed, so that a crash leaves the old list or the new one.
   */
  async #saveSeen(checkpoint: Checkpoint): Promise<void> {
    const path = this.seenPath(checkpoint.job);
    const written = this.#seenWritten.get(checkpoint.job);
    const appending =
      written?.cycleId === checkpoint.cycleId &&
      written.list === checkpoint.seen &&
      written.count <= checkpoint.seen.length;
    const ids = appending ? checkpoint.seen.slice(written.count) : checkpoint.seen;
    const text = ids.length > 0 ? `${ids.join('\n')}\n` : '';
    if (!appending) await writeAtomically(path, text);
    else if (text) await writeAndSync(path, 'a', text);
    this.#seenWritten.set(checkpoint.job, {
      cycleId: checkpoint.cycleId,
      list: checkpoint.seen,
      count: checkpoint.seen.length,
    });
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const path = this.checkpointPath(checkpoint.job);
    const { seen, ...rest } = checkpoint;
    const text = JSON.stringify({ ...rest, seenCount: seen.length });
    if (seen.length === 0) {
      // Any side file satisfies a checkpoint that counts no seen users: it goes first, so
      // that a crash in between leaves the old checkpoint with its list, or the new one.
      await writeAtomically(path, text);
      await this.#saveSeen(checkpoint);
      return;
    }
    // The ids first: a checkpoint never counts more seen users than the side file holds.
    await this.#saveSeen(checkpoint);
    await writeAtomically(path, text);
  }

  async clear(job: string): Promise<void> {
    await rm(this.checkpointPath(job), { force: true });
    await rm(this.seenPath(job), { force: true });
    this.#seenWritten.delete(job);
  }

  /** Temporary files of runs of this job that were killed mid-write; only the lock holder writes them. */
  async #removeLeftovers(job: string): Promise<void> {
    const files = await readdir(this.directory);
    await Promise.all(
      files
        .filter((file) => isLeftoverOf(file, job))
        .map((file) => rm(join(this.directory, file), { force: true })),
    );
  }

  async lock(job: string, owner: LockOwner): Promise<RunLock> {
    await mkdir(this.directory, { recursive: true });
    const path = this.lockPath(job);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, JSON.stringify(owner), { flag: 'wx', mode: 0o600 });
        await this.#removeLeftovers(job);
        // Held for as long as this process lives: nothing can take it over, so it is never lost.
        return { lost: new AbortController().signal, release: () => unlink(path).catch(() => undefined) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readLockOwner(path);
      if (holder && isAlive(holder)) throw new JobAlreadyRunningError(job, holder, path);
      // The holder died (kill -9, crash): its lock is stale and can be taken over.
      await rm(path, { force: true });
    }
    throw new JobAlreadyRunningError(job, undefined, path);
  }

  async unlock(job: string): Promise<LockHolder | undefined> {
    const path = this.lockPath(job);
    const text = await readIfExists(path);
    if (text === undefined) return undefined;
    await rm(path, { force: true });
    try {
      return JSON.parse(text) as LockHolder;
    } catch {
      // Half written by a run killed while taking it: freed all the same.
      return { runId: 'unknown (the lock file was damaged)', pid: 0, host: '', startedAt: '' };
    }
  }
}

/** A file writeAtomically() left behind when its run was killed before the rename. */
function isLeftoverOf(file: string, job: string): boolean {
  const match = /^(.*)\.(?:checkpoint\.json|seen)\.[0-9a-f]{8}\.tmp$/.exec(file);
  return match?.[1] === job;
}

/** Writes a file aside, flushes it and renames it over `path`: all of it or none. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeAndSync(temporary, 'w', text);
  await rename(temporary, path);
}

/** Writes (`w`) or appends (`a`) `text` to a file only its owner may read, and flushes it to disk. */
async function writeAndSync(path: string, flags: 'w' | 'a', text: string): Promise<void> {
  const handle = await open(path, flags, 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The file's text, or undefined when there is no such file (any other error is thrown). */
async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readLockOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  // A lock from another host cannot be checked; trust it.
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
