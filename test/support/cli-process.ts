// Runs the product's CLI as a child process, the way a container or cron host would,
// so that NODE_EXTRA_CA_CERTS (read only at start) can trust the fake Graph. A child sees
// only the environment its test gives it, plus where programs, home and temporary files
// are: nothing from the shell that runs the tests (AZURE_*, ENTRA_WP_SYNC_*, GITHUB_*,
// NODE_OPTIONS, LANG) can change what a test exercises.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const cliEntry = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves when stderr or stdout has printed text matching the pattern. */
  waitForOutput(pattern: RegExp): Promise<void>;
  result: Promise<CliResult>;
}

/** What a child takes from the test run's own environment; everything else its test sets. */
export const inheritedVariables = ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'SYSTEMROOT'] as const;

/** `env` and the inherited variables: the whole environment of a child (an undefined value unsets). */
export function isolatedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = {};
  for (const name of inheritedVariables) {
    if (process.env[name] !== undefined) inherited[name] = process.env[name];
  }
  return { ...inherited, ...env };
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): RunningCli {
  return startNodeScript(cliEntry, args, env);
}

/** Any script of the product under this Node, its output collected and watchable as it comes. */
export function startNodeScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): RunningCli {
  const child = spawn(process.execPath, [script, ...args], {
    env: isolatedEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stdout) || waiter.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    check();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    check();
  });
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    result,
    waitForOutput: (pattern) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        result.then(() =>
          reject(new Error(`${script} exited before printing ${pattern}:\n${stdout}\n${stderr}`)),
        );
      }),
  };
}

export function runCliProcess(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).result;
}
