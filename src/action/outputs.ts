// The step's outputs: the counts, the verdict (outcome), how many decisions wait for a
// person (held), whether every job finished its cycle, and where the reports are.
import * as core from '@actions/core';
import type { JobRunSummary } from '../report/run-summary.ts';
import type { ActionOutputName } from './action-metadata.ts';
import type { Outcome } from './outcome.ts';

/** Only the outputs action-metadata.ts declares: a workflow reads no other. */
export function setOutput(name: ActionOutputName, value: string | number | boolean): void {
  core.setOutput(name, value);
}

const countOutputs: readonly ActionOutputName[] = [
  'created',
  'adopted',
  'updated',
  'disabled',
  'deleted',
  'restored',
  'unchanged',
  'failed',
];

export interface RunReports {
  resultsPath: string;
  summaryPath: string;
}

export function setRunOutputs(
  summaries: readonly JobRunSummary[],
  jobCount: number,
  outcome: Outcome,
  reports: RunReports,
): void {
  const total = (action: string) =>
    summaries.reduce((sum, summary) => sum + (summary.counts[action] ?? 0), 0);
  for (const action of countOutputs) setOutput(action, total(action));
  setOutput('held', heldDecisions(summaries));
  setOutput('outcome', outcome);
  // A user: run did all it set out to; it neither moves nor finishes a cycle.
  setOutput(
    'complete',
    summaries.length === jobCount &&
      summaries.every((summary) => summary.cycleComplete || summary.singleUser !== undefined),
  );
  setOutput('results-path', reports.resultsPath);
  setOutput('summary-path', reports.summaryPath);
}

/** Removals held over safety.maxDeletes and adoptions held without proof, waiting for approval. */
export function heldDecisions(summaries: readonly JobRunSummary[]): number {
  return summaries.reduce(
    (sum, summary) =>
      sum + (summary.removals?.held ? summary.removals.wanted : 0) + (summary.heldAdoptions?.length ?? 0),
    0,
  );
}
