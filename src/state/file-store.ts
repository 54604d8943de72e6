// Checkpoints as JSON files in a directory: written to a temporary file, flushed and
// renamed, so a crash leaves either the old or the new checkpoint, never half of one.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Checkpoint, isCheckpoint } from './checkpoint.ts';
import { CorruptCheckpointError, JobAlreadyRunningError } from './errors.ts';
import type { LockOwner, RunLock, StateStore } from './state-store.ts';

export class FileStateStore implements StateStore {
  readonly directory: string;
  readonly description: string;

  constructor(directory: string) {
    this.directory = directory;
    this.description = `directory ${directory}`;
  }

  checkpointPath(job: string): string {
    return join(this.directory, `${job}.checkpoint.json`);
  }

  lockPath(job: string): string {
    return join(this.directory, `${job}.lock`);
  }

  async load(job: string): Promise<Checkpoint | undefined> {
    const path = this.checkpointPath(job);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CorruptCheckpointError(job, path, 'not valid JSON');
    }
    if (!isCheckpoint(value) || value.job !== job) {
      throw new CorruptCheckpointError(job, path, 'unexpected content');
    }
    return value;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const path = this.checkpointPath(checkpoint.job);
    const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(checkpoint));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  }

  async clear(job: string): Promise<void> {
    await rm(this.checkpointPath(job), { force: true });
  }

  async lock(job: string, owner: LockOwner): Promise<RunLock> {
    await mkdir(this.directory, { recursive: true });
    const path = this.lockPath(job);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, JSON.stringify(owner), { flag: 'wx', mode: 0o600 });
        return { release: () => unlink(path).catch(() => undefined) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readLockOwner(path);
      if (holder && isAlive(holder)) {
        throw new JobAlreadyRunningError(
          job,
          `run ${holder.runId}, pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}`,
          path,
        );
      }
      // The holder died (kill -9, crash): its lock is stale and can be taken over.
      await rm(path, { force: true });
    }
    throw new JobAlreadyRunningError(job, 'another run took the lock at the same moment', path);
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
