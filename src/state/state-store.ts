// One interface for checkpoints and the run lock, with a directory backend for
// containers and a WordPress backend for GitHub Actions (actions/cache's pattern).
import type { Checkpoint } from './checkpoint.ts';

export interface RunLock {
  release(): Promise<void>;
}

export interface LockOwner {
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
}

export interface StateStore {
  readonly description: string;
  load(job: string): Promise<Checkpoint | undefined>;
  save(checkpoint: Checkpoint): Promise<void>;
  clear(job: string): Promise<void>;
  /** Throws JobAlreadyRunningError when another live run holds the job. */
  lock(job: string, owner: LockOwner): Promise<RunLock>;
}
