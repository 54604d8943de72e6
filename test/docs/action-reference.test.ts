// src/action/action-metadata.ts is the one list of the action's inputs and outputs:
// action.yml (which GitHub reads, kept by hand) declares exactly those, README.md's
// reference is rendered from it, and the action reads every input it declares.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionReferenceIn, renderActionReference } from '../../scripts/action-reference.ts';
import { actionInputs, actionOutputs } from '../../src/action/action-metadata.ts';
import { actionInputsFrom } from '../../src/action/inputs.ts';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

interface ActionYml {
  inputs: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description?: string }>;
}

describe('the action reference in README.md', () => {
  it('is the table action-metadata.ts generates (stale? run node scripts/generate-action-reference.ts)', async () => {
    expect(actionReferenceIn(await read('README.md'))).toBe(renderActionReference());
  });
});

describe('action.yml', () => {
  it('declares the inputs of action-metadata.ts, in its order, with its descriptions, defaults and required', async () => {
    const declared = (parse(await read('action.yml')) as ActionYml).inputs;
    const table = Object.entries(actionInputs).map(([name, input]) => ({
      name,
      description: input.description,
      default: input.default,
      required: input.required,
    }));
    expect(
      Object.entries(declared).map(([name, input]) => ({
        name,
        description: input.description,
        default: input.default,
        required: input.required ?? false,
      })),
    ).toEqual(table);
  });

  it('declares the outputs of action-metadata.ts, in its order, with its descriptions', async () => {
    const declared = (parse(await read('action.yml')) as ActionYml).outputs;
    expect(
      Object.entries(declared).map(([name, output]) => ({ name, description: output.description })),
    ).toEqual(
      Object.entries(actionOutputs).map(([name, output]) => ({ name, description: output.description })),
    );
  });
});

describe('the inputs', () => {
  it('the action reads every input the table declares (the names are typed, so it reads no other)', async () => {
    const sources = await Promise.all(
      (await readdir(new URL('../../src/action/', import.meta.url)))
        .filter((file) => file.endsWith('.ts'))
        .map((file) => read(`src/action/${file}`)),
    );
    const readByAction = new Set(
      sources.flatMap((text) =>
        [...text.matchAll(/\binputs\.(?:text|flag)\('([^']+)'\)/g)].map((match) => match[1]!),
      ),
    );
    expect([...readByAction].sort()).toEqual(Object.keys(actionInputs).sort());
  });

  it('only src/action/main.ts asks the runner for inputs, through the table', async () => {
    const files = (await readdir(new URL('../../src/action/', import.meta.url))).filter((file) =>
      file.endsWith('.ts'),
    );
    const askers = [];
    for (const file of files) {
      if (/\bcore\.get(?:Boolean|Multiline)?Input\b/.test(await read(`src/action/${file}`)))
        askers.push(file);
    }
    expect(askers).toEqual(['main.ts']);
  });

  it("an empty input is the table's default, as when a local runner passes nothing; a boolean is true or false", () => {
    const given: Record<string, string> = { config: 'ci/jobs.yaml', 'dry-run': 'TRUE', 'reset-state': 'yes' };
    const inputs = actionInputsFrom((name) => given[name] ?? '');
    expect(inputs.text('config')).toBe('ci/jobs.yaml');
    expect(inputs.text('fail-on')).toBe('partial');
    expect(inputs.text('job')).toBe('');
    expect(inputs.flag('dry-run')).toBe(true);
    expect(actionInputsFrom(() => '').flag('dry-run')).toBe(false);
    expect(() => inputs.flag('reset-state')).toThrow(
      'The input reset-state must be true or false (got "yes").',
    );
  });
});
