// One interface for checkpoints and the run lock, with a directory backend for
// containers and a WordPress backend for GitHub Actions (actions/cache's pattern).
import type { Checkpoint } from './checkpoint.ts';

export interface RunLock {
  /**
   * Aborted (its reason a LockLostError) when the run learns that another run has taken
   * the job over: its lease ran out unrenewed. The run must stop writing.
   */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/** Who a run is, written into its lock so that whoever finds the lock can tell. */
export interface LockOwner {
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
  /** The GitHub Actions run (attempt) page, when the run is an Action. */
  runUrl?: string | undefined;
}

/** A lock as found: its owner and, for a lease, when it frees unless renewed. */
export interface LockHolder extends LockOwner {
  /** ISO time; undefined for a lock that lasts as long as its process (file backend). */
  expiresAt?: string | undefined;
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
