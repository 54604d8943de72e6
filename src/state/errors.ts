import { ActionableError, ExitCode } from '../errors.ts';

export class JobAlreadyRunningError extends ActionableError {
  constructor(job: string, holder: string, where: string) {
    super(`Job "${job}" is already running (${holder}); this run stops without doing anything.`, {
      hint: `Wait for that run to finish. If it is not running any more, remove the lock at ${where}.`,
      exitCode: ExitCode.failed,
    });
    this.name = 'JobAlreadyRunningError';
  }
}

export class CorruptCheckpointError extends ActionableError {
  constructor(job: string, where: string, detail: string) {
    super(`The checkpoint of job "${job}" at ${where} is damaged (${detail}); nothing was changed.`, {
      hint: `Run \`entra-wp-sync state reset --job ${job}\` to start a fresh cycle (no deletions happen until that cycle completes).`,
      exitCode: ExitCode.failed,
    });
    this.name = 'CorruptCheckpointError';
  }
}
