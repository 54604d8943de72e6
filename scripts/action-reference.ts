// The README's tables of the action's inputs and outputs, rendered from
// src/action/action-metadata.ts, so the two cannot drift (test/docs/action-reference.test.ts
// fails when README.md is stale; run node scripts/generate-action-reference.ts to rewrite it).
import { actionInputs, actionOutputs } from '../src/action/action-metadata.ts';
import { blockIn, cell, readmeBlock, withBlock } from './readme-block.ts';

const block = readmeBlock('action-reference');

export function renderActionReference(): string {
  const inputs = Object.entries(actionInputs).map(
    ([name, input]) =>
      `| \`${name}\` | ${input.default ? `\`${input.default}\`` : '(empty)'} | ${cell(input.description)} |`,
  );
  const outputs = Object.entries(actionOutputs).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description)} |`,
  );
  return [
    '| input | default | what it does |',
    '| --- | --- | --- |',
    ...inputs,
    '',
    '| output | what it holds |',
    '| --- | --- |',
    ...outputs,
  ].join('\n');
}

/** The README's text between the markers, or undefined when they are missing. */
export function actionReferenceIn(readme: string): string | undefined {
  return blockIn(readme, block);
}

export function withActionReference(readme: string, reference: string): string {
  return withBlock(readme, block, reference);
}
