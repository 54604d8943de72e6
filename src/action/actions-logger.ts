// Logs through the Actions toolkit: warnings and errors become annotations with a title
// that names the job and what happened; debug lines are written only when the run has
// debug logging on (RUNNER_DEBUG), so a 30-minute run does not carry thousands of lines
// nobody asked for. Everything is reworded for workflow inputs.
import * as core from '@actions/core';
import type { Logger } from '../log/logger.ts';
import { inActionTerms } from './action-wording.ts';

/** Annotation titles for the events the core logs with a warning. */
const eventTitles: Record<string, string> = {
  skipped: 'job skipped, another run holds it',
  'batch-unavailable': 'writing one user per request',
  'delta-expired': 'delta link expired, full cycle',
  'listing-restart': 'listing restarted',
  'source-changed': 'source changed, new cycle',
};

function titleOf(fields: Record<string, unknown> | undefined): string {
  const job = typeof fields?.job === 'string' ? fields.job : undefined;
  const event = typeof fields?.event === 'string' ? eventTitles[fields.event] : undefined;
  if (job && event) return `${job}: ${event}`;
  return job ? `entra-wp-sync: ${job}` : 'entra-wp-sync';
}

export const actionsLogger: Logger = {
  debug: (message) => {
    if (core.isDebug()) core.debug(inActionTerms(message));
  },
  info: (message) => core.info(inActionTerms(message)),
  warn: (message, fields) => core.warning(inActionTerms(message), { title: titleOf(fields) }),
  error: (message, fields) => {
    // A job's fatal error is annotated once, by the entry point, with its title and place.
    if (fields?.event === 'failed') return;
    core.error(inActionTerms(message), { title: titleOf(fields) });
  },
};
