// Sorts a job's fatal error by whose side failed, for the summary and the annotations.
import { ConfigError } from '../config/config-error.ts';
import { ActionableError, ExitCode } from '../errors.ts';
import { EntraError } from '../graph/entra-errors.ts';
import { type JobFailure, placeAtStartOf } from '../report/job-failure.ts';
import { WordPressError } from '../wordpress/errors.ts';

export function describeFailure(error: unknown): JobFailure {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof ActionableError ? error.hint : undefined;
  if (error instanceof ConfigError) {
    const issue = error.issues[0];
    return {
      message,
      hint,
      source: 'configuration',
      place: issue ? { file: issue.file, line: issue.line, column: issue.column } : undefined,
    };
  }
  if (error instanceof EntraError) return { message, hint, source: 'entra' };
  if (error instanceof WordPressError) return { message, hint, source: 'wordpress' };
  if (error instanceof ActionableError && error.exitCode === ExitCode.usage) {
    return { message, hint, source: 'configuration', place: placeAtStartOf(message) };
  }
  return { message, hint, source: 'other' };
}
