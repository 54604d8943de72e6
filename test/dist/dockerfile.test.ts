// No Docker daemon here: check what the image promises, and run its entry point the way
// the image does (dist/cli.js alone, outside the repo — see bundles.test.ts).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1) ?? '';

describe('Dockerfile', () => {
  it('builds in one Node 24 stage and runs from another', () => {
    expect(stages).toHaveLength(2);
    for (const stage of stages) expect(stage).toMatch(/^node:24-/);
    expect(stages[0]).toContain('npm ci');
  });

  it('runs the bundled CLI as a numeric non-root user, without npm', () => {
    expect(runtime).toMatch(/^USER \d+:\d+$/m);
    expect(runtime).not.toMatch(/^USER (root|0)/m);
    expect(runtime).toContain('ENTRYPOINT ["node", "/app/cli.js"]');
    expect(runtime).toContain('COPY --from=build /src/dist/cli.js /app/cli.js');
    const removal = runtime.match(/^RUN rm -rf ((?:.*\\\n)*.*)$/m)?.[1] ?? '';
    expect(removal).toContain('/usr/local/bin/npm');
    expect(removal).toContain('/usr/local/lib/node_modules/npm');
    expect(runtime).not.toMatch(/^RUN npm/m);
  });
});
