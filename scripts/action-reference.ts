// The README's tables of the action's inputs and outputs, rendered from action.yml, so the
// two cannot drift (test/docs/action-reference.test.ts fails when README.md is stale; run
// node scripts/generate-action-reference.ts to rewrite it).
import { parse } from 'yaml';

export const referenceStart = '<!-- action-reference:start -->';
export const referenceEnd = '<!-- action-reference:end -->';

interface ActionMetadata {
  inputs?: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs?: Record<string, { description?: string }>;
}

const cell = (text: string) =>
  text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();

export function renderActionReference(actionYml: string): string {
  const metadata = parse(actionYml) as ActionMetadata;
  const inputs = Object.entries(metadata.inputs ?? {}).map(
    ([name, input]) =>
      `| \`${name}\` | ${input.default ? `\`${input.default}\`` : '(empty)'} | ${cell(input.description ?? '')} |`,
  );
  const outputs = Object.entries(metadata.outputs ?? {}).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description ?? '')} |`,
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
  const start = readme.indexOf(referenceStart);
  const end = readme.indexOf(referenceEnd);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + referenceStart.length, end).trim();
}

export function withActionReference(readme: string, reference: string): string {
  const start = readme.indexOf(referenceStart);
  const end = readme.indexOf(referenceEnd);
  if (start < 0 || end < start)
    throw new Error(`README.md has no ${referenceStart} … ${referenceEnd} markers`);
  return `${readme.slice(0, start + referenceStart.length)}\n${reference}\n${readme.slice(end)}`;
}
