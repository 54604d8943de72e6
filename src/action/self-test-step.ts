// command: check — the self-test as a step: the same checks as `entra-wp-sync check`, over
// the same credentials (GitHub OIDC included), so the first dispatch of a new setup tells
// the administrator what is missing. Nothing is written to WordPress.
import * as core from '@actions/core';
import { type CheckLine, selfTest } from '../check/self-test.ts';
import { ConfigError } from '../config/config-error.ts';
import { ExitCode } from '../errors.ts';
import { inActionTerms } from './action-wording.ts';
import { actionsLogger } from './actions-logger.ts';
import { annotateStartFailure } from './annotations.ts';
import type { FailOn } from './inputs.ts';
import { setOutput } from './outputs.ts';
import { writeSelfTestSummary } from './step-summary.ts';

export async function runSelfTestStep(configPath: string, job: string, failOn: FailOn): Promise<void> {
  const { lines, exitCode } = await core.group('Self-test', async () => {
    const result = await selfTest({
      configPath,
      job: job || undefined,
      env: process.env,
      logger: actionsLogger,
    });
    for (const line of result.lines) core.info(describeLine(line));
    return result;
  });
  for (const line of lines.filter((candidate) => !candidate.ok)) {
    if (line.error instanceof ConfigError) annotateStartFailure(line.error, process.env);
    else core.error(inActionTerms(line.detail), { title: `Self-test failed: ${line.check}` });
  }
  const passed = exitCode === ExitCode.ok;
  core.info(
    passed
      ? `Self-test passed: ${lines.length} checks.`
      : `Self-test failed: ${lines.filter((line) => !line.ok).length} of ${lines.length} checks.`,
  );
  setOutput('outcome', passed ? 'ok' : 'failed');
  await writeSelfTestSummary(lines, passed);
  if (!passed && failOn !== 'never') process.exitCode = ExitCode.failed;
}

function describeLine(line: CheckLine): string {
  return `${line.ok ? 'pass' : 'FAIL'}  ${line.check}: ${inActionTerms(line.detail).replace(/\n\s*/g, ' ')}`;
}
