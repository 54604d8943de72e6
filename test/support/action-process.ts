// Runs the Action's bundles as the GitHub runner does: dist/index.js (main) and then
// dist/post.js (post) as their own processes, with the inputs as INPUT_* variables (the
// runner keeps a hyphen: INPUT_DRY-RUN), the runner's GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
// and GITHUB_STATE files, and the workspace as the working directory; post gets what
// main saved as STATE_*.
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNodeScript } from './cli-process.ts';

const dist = (file: string) => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url));

export interface StepResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningStep {
  child: ChildProcess;
  /** Resolves when the step has printed text matching the pattern; rejects if it exits first. */
  waitForOutput(pattern: RegExp): Promise<void>;
  result: Promise<StepResult>;
}

/** The files the runner gives one step: its main and post share the state file. */
export interface RunnerFiles {
  output: string;
  summary: string;
  state: string;
  /** GITHUB_WORKSPACE, where the step runs (outside node_modules: only what the bundle carries loads). */
  workspace: string;
}

export async function runnerFiles(directory: string, name = 'step'): Promise<RunnerFiles> {
  const files = {
    output: join(directory, `${name}-github-output`),
    summary: join(directory, `${name}-step-summary.md`),
    state: join(directory, `${name}-github-state`),
  };
  await Promise.all(Object.values(files).map((file) => writeFile(file, '')));
  const workspace = join(directory, `${name}-workspace`);
  await mkdir(workspace, { recursive: true });
  return { ...files, workspace };
}

function inputVariables(inputs: Record<string, string>): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]),
  );
}

function startStep(script: string, env: NodeJS.ProcessEnv, cwd: string): RunningStep {
  return startNodeScript(dist(script), [], { GITHUB_WORKSPACE: cwd, ...env }, cwd);
}

/** dist/index.js with these inputs. */
export function startActionMain(
  inputs: Record<string, string>,
  env: NodeJS.ProcessEnv,
  files: RunnerFiles,
): RunningStep {
  return startStep(
    'index.js',
    {
      ...env,
      ...inputVariables(inputs),
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_STATE: files.state,
    },
    files.workspace,
  );
}

/** dist/post.js after main: the same inputs, and main's saved state as STATE_* variables. */
export async function runActionPost(
  inputs: Record<string, string>,
  env: NodeJS.ProcessEnv,
  files: RunnerFiles,
): Promise<StepResult> {
  const saved = parseRunnerFile(await readFile(files.state, 'utf8'));
  const state = Object.fromEntries(Object.entries(saved).map(([name, value]) => [`STATE_${name}`, value]));
  return startStep('post.js', { ...env, ...inputVariables(inputs), ...state }, files.workspace).result;
}

/** name<<delimiter / value / delimiter entries, as GITHUB_OUTPUT and GITHUB_STATE hold them. */
export function parseRunnerFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[index]!);
    if (!match) continue;
    const [, name, delimiter] = match;
    const value: string[] = [];
    while (++index < lines.length && lines[index] !== delimiter) value.push(lines[index]!);
    values[name!] = value.join('\n');
  }
  return values;
}

export async function readOutputs(files: RunnerFiles): Promise<Record<string, string>> {
  return parseRunnerFile(await readFile(files.output, 'utf8'));
}

// Where the Action's tests have always found it.
export { holdUsersPage, pagesBeforeDone } from './graph-hooks.ts';
