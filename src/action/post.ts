// The Action's post step (action.yml `post:`, run after the job's steps, also when one
// failed or the run was cancelled). A run killed before it let go of its lock (SIGKILL
// after a cancel, a crash, a runner lost mid-run) would make the next scheduled runs
// say "already running" until the lock expires; this releases the locks the run saved
// in the step's state, and only while they still name that run.
import * as core from '@actions/core';
import { type ReleaseOutcome, releaseLockOfRun } from '../app/release-lock.ts';
import { readApplicationPassword } from '../config/environment.ts';
import { describeError } from '../errors.ts';
import { locksReleased, savedRun } from './run-state.ts';

export async function runPost(): Promise<void> {
  const run = savedRun();
  if (!run || run.locks.length === 0) {
    core.info('entra-wp-sync: this run took no lock; nothing to release.');
    return;
  }
  if (locksReleased()) {
    core.info(`entra-wp-sync: run ${run.runId} released its locks itself; nothing to release.`);
    return;
  }
  for (const place of run.locks) {
    const password =
      place.backend === 'wordpress'
        ? readApplicationPassword(process.env, place.applicationPasswordEnv)
        : undefined;
    if (password) core.setSecret(password);
    try {
      const outcome = await releaseLockOfRun(place, run, process.env);
      core.info(`${place.job}: ${describeOutcome(outcome, run.runId)}`);
    } catch (error) {
      // The next run then waits for the lock to expire; the job's own result stands.
      core.warning(
        `${place.job}: the lock of run ${run.runId} could not be released: ${describeError(error)}`,
        { title: `${place.job}: lock not released` },
      );
    }
  }
}

function describeOutcome(outcome: ReleaseOutcome, runId: string): string {
  if (outcome === 'released')
    return `released the lock run ${runId} left behind; the next run can start at once.`;
  if (outcome === 'not held')
    return `run ${runId} holds no lock (released, or another run's now); left alone.`;
  return `released the lock of run ${runId} on the site if it still held it (another run's lock is left alone); the next run can start at once.`;
}

await runPost();
