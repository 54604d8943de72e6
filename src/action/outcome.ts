// The run's verdict in one word (the outcome output), and whether it fails the step.
import { ExitCode } from '../errors.ts';
import type { FailOn } from './inputs.ts';

export type Outcome = 'ok' | 'partial' | 'held' | 'failed';

export function outcomeOf(exitCode: number): Outcome {
  if (exitCode === ExitCode.ok) return 'ok';
  if (exitCode === ExitCode.partial) return 'partial';
  if (exitCode === ExitCode.deletesHeld) return 'held';
  return 'failed';
}

/** Held removals and adoptions wait for a person, so they fail the step unless fail-on is never. */
export function failsStep(outcome: Outcome, failOn: FailOn): boolean {
  if (outcome === 'ok' || failOn === 'never') return false;
  return outcome !== 'partial' || failOn === 'partial';
}
