// README.md documents every input and output of the action as action.yml declares them,
// and action.yml declares every input the action reads.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionReferenceIn, renderActionReference } from '../../scripts/action-reference.ts';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the action reference in README.md', () => {
  it('is the table action.yml generates (stale? run node scripts/generate-action-reference.ts)', async () => {
    expect(actionReferenceIn(await read('README.md'))).toBe(renderActionReference(await read('action.yml')));
  });

  it('covers every input the action reads, and action.yml declares no input it ignores', async () => {
    const sources = await Promise.all(
      (await readdir(new URL('../../src/action/', import.meta.url)))
        .filter((file) => file.endsWith('.ts'))
        .map((file) => read(`src/action/${file}`)),
    );
    const readByAction = new Set(
      sources.flatMap((text) =>
        [...text.matchAll(/(?:getInput|getBooleanInput|booleanInput)\('([^']+)'\)/g)].map(
          (match) => match[1]!,
        ),
      ),
    );
    const declared = Object.keys((parse(await read('action.yml')) as { inputs: object }).inputs);
    expect([...readByAction].sort()).toEqual([...declared].sort());
  });
});
