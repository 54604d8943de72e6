// The committed bundles are what users run: the action from dist/index.js, the
// container from dist/cli.js. They must work under Node 24 with every dependency inlined.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

const dist = (file: string) => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url));
let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

function runNode(script: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // Outside node_modules, so only what the bundle carries can be loaded.
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('dist bundles', () => {
  it('runs the CLI bundle and syncs users', async () => {
    harness = await startSyncHarness(generateUsers(12, 21));
    await harness.writeConfig();
    const version = await runNode(dist('cli.js'), ['--version'], {});
    expect(version.stdout).toMatch(/^entra-wp-sync \d+\.\d+\.\d+/);
    const out = join(harness.directory, 'out');
    const result = await runNode(
      dist('cli.js'),
      ['run', '-c', harness.configPath, '--out', out],
      harness.env,
    );
    expect(result.stderr).not.toContain('Dynamic require');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('staff: 12 created');
  });

  it('runs the action bundle with INPUT_* values, sets outputs and writes the step summary', async () => {
    harness = await startSyncHarness(generateUsers(8, 22));
    await harness.writeConfig();
    const outputFile = join(harness.directory, 'github-output');
    const summaryFile = join(harness.directory, 'step-summary.md');
    await writeFile(outputFile, '');
    await writeFile(summaryFile, '');
    const result = await runNode(dist('index.js'), [], {
      ...harness.env,
      INPUT_CONFIG: harness.configPath,
      'INPUT_DRY-RUN': 'false',
      INPUT_OUT: join(harness.directory, 'out'),
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
    });
    expect(result.stdout).not.toContain('::error::');
    expect(result.code).toBe(0);
    const outputs = await readFile(outputFile, 'utf8');
    expect(outputs).toMatch(/created<<ghadelimiter_[\w-]+\n8\n/);
    expect(outputs).toMatch(/complete<<ghadelimiter_[\w-]+\ntrue\n/);
    expect(await readFile(summaryFile, 'utf8')).toContain('## entra-wp-sync: staff');
    // The application password is registered as a secret before anything is logged.
    expect(result.stdout).toContain(`::add-mask::${harness.site.appPassword}`);
  });

  it('syncs one user with the user input and clears the checkpoint with reset-state', async () => {
    const people = generateUsers(4, 23);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ limits: { pageSize: 2, maxRuntime: 0.001 } });
    await harness.run(['run', '-c', harness.configPath, '--out', join(harness.directory, 'partial')]);
    const outputFile = join(harness.directory, 'github-output');
    await writeFile(outputFile, '');
    const result = await runNode(dist('index.js'), [], {
      ...harness.env,
      INPUT_CONFIG: harness.configPath,
      INPUT_USER: people[3]!.userPrincipalName,
      'INPUT_RESET-STATE': 'true',
      INPUT_OUT: join(harness.directory, 'out'),
      GITHUB_OUTPUT: outputFile,
    });
    expect(result.stdout).toContain('Checkpoints cleared for staff');
    expect(result.stdout).not.toContain('::error::');
    expect(result.code).toBe(0);
    expect(await readFile(outputFile, 'utf8')).toMatch(/created<<ghadelimiter_[\w-]+\n1\n/);
    // The cycle starts over; when the job began managing the site is kept (adoptions are judged by it).
    const shown = (await harness.run(['state', 'show', '-c', harness.configPath])).stdout;
    expect(shown).toContain('page 0 done, 0 users seen');
    expect(shown).toContain('managing the site since');
  });

  it('fails the step with a readable message when the configuration is missing', async () => {
    const result = await runNode(dist('index.js'), [], { INPUT_CONFIG: '/nonexistent/jobs.yaml' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '::error title=Configuration error%2C nothing was changed,file=nonexistent/jobs.yaml,line=1,col=1::/nonexistent/jobs.yaml:1:1 the configuration file does not exist',
    );
    // Worded for a workflow: the input, not the CLI's -c/--config.
    expect(result.stdout).toContain('hint: Set the input config to its path in the repository');
  });
});
