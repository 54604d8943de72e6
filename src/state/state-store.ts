// One interface for checkpoints and the run lock, with a directory backend for
// containers and a WordPress backend for GitHub Actions (actions/cache's pattern).
import type { Checkpoint } from './checkpoint.ts';
import type { LockHolder, LockOwner } from './lock-owner.ts';

export interface RunLock {
  /**
   * Aborted (its reason a LockLostError) when the run learns that another run has taken
   * the job over: its lease ran out unrenewed. The run must stop writing.
   */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface StateStore {
  readonly description: string;
  load(job: string): Promise<Checkpoint | undefined>;
  save(checkpoint: Checkpoint): Promise<void>;
  clear(job: string): Promise<void>;
  /** Throws JobAlreadyRunningError when another live run holds the job. */
  lock(job: string, owner: LockOwner): Promise<RunLock>;
  /** Frees the job's lock whoever holds it (`state unlock`); returns who did, if anyone. */
  unlock(job: string): Promise<LockHolder | undefined>;
}
