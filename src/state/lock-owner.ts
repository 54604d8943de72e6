// Who a run is, as its lock tells whoever finds the lock: run id, process, machine,
// start time and, inside GitHub Actions, the run attempt's page.
import { hostname } from 'node:os';
import type { Env } from '../config/env.ts';
import { actionsRunAttemptUrl } from '../runtime/actions-run.ts';

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

export function lockOwnerOf(runId: string, started: Date, env: Env): LockOwner {
  const runUrl = actionsRunAttemptUrl(env);
  return {
    runId,
    pid: process.pid,
    host: hostname(),
    startedAt: started.toISOString(),
    ...(runUrl ? { runUrl } : {}),
  };
}
