// README.md documents every environment variable as src/config/environment.ts lists it.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { environmentReferenceIn, renderEnvironmentReference } from '../../scripts/environment-reference.ts';

describe('the environment reference in README.md', () => {
  it('is the table environment.ts generates (stale? run node scripts/generate-environment-reference.ts)', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(environmentReferenceIn(readme)).toBe(renderEnvironmentReference());
  });
});
