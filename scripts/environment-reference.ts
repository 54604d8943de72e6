// The README's table of environment variables, rendered from src/config/environment.ts
// (test/docs/environment-reference.test.ts fails when README.md is stale; run
// node scripts/generate-environment-reference.ts to rewrite it).
import { environmentTable } from '../src/config/environment.ts';
import { blockIn, cell, readmeBlock, withBlock } from './readme-block.ts';

const block = readmeBlock('environment-reference');

export function renderEnvironmentReference(): string {
  const rows = environmentTable.map(
    (variable) =>
      `| \`${variable.name}\` | ${variable.default ? `\`${variable.default}\`` : ''} | ${variable.secret ? 'yes' : ''} | ${variable.readBy.join(', ')} | ${cell(variable.description)} |`,
  );
  return [
    "Read by: *sync* is `run`, `sync-user` and the Action's runs; *self-test* is `check` and the",
    "Action's `command: check`; *state commands* are `state show|reset|unlock`. The Action registers",
    "the value of each secret variable, and of each job's `wordpress.applicationPasswordEnv`, with",
    'the runner before it logs anything, so the log shows `***` instead.',
    '',
    '| variable | default | secret | read by | what it is for |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function environmentReferenceIn(readme: string): string | undefined {
  return blockIn(readme, block);
}

export function withEnvironmentReference(readme: string, reference: string): string {
  return withBlock(readme, block, reference);
}
