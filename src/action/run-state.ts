// What the post step needs to release the locks of a run that could not (killed, or cut
// off after a cancel): main saves it with core.saveState before any lock is taken, and
// says so when the run let go of its locks itself; post reads it back with core.getState.
import * as core from '@actions/core';
import { isLockPlace, type LockPlace, type LockRun } from '../app/release-lock.ts';

export interface SavedRun extends LockRun {
  /** The jobs this run may lock, and where each lock lives. */
  locks: LockPlace[];
}

const runKey = 'run';
const releasedKey = 'locks-released';

export function saveRun(run: SavedRun): void {
  core.saveState(runKey, JSON.stringify(run));
}

/** The run returned: every lock it took was released on the way out. */
export function saveLocksReleased(): void {
  core.saveState(releasedKey, 'true');
}

export function locksReleased(): boolean {
  return core.getState(releasedKey) === 'true';
}

/** The saved run, or undefined when main saved none (a preview, or it stopped before). */
export function savedRun(): SavedRun | undefined {
  const text = core.getState(runKey);
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const run = value as Partial<SavedRun> | null;
  if (
    typeof run?.runId !== 'string' ||
    typeof run.pid !== 'number' ||
    typeof run.host !== 'string' ||
    !Array.isArray(run.locks) ||
    !run.locks.every(isLockPlace)
  )
    return undefined;
  return run as SavedRun;
}
