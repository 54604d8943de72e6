// The container / terminal entry: parses the command line and returns an exit code
// (never calls process.exit, so tests can run it in-process).
import { userInfo } from 'node:os';
import type { Env } from '../config/env.ts';
import { readVariable } from '../config/environment.ts';
import { renderJobsJsonSchema } from '../config/json-schema.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import { type ApprovalRequest, parseApprovalPin } from '../rules/approvals.ts';
import { productName, productVersion } from '../version.ts';
import { checkCommand } from './commands/check.ts';
import { runCommand } from './commands/run.ts';
import { stateCommand } from './commands/state.ts';
import { createConsoleLogger } from './console-logger.ts';
import { parseCommandLine, renderUsage } from './options.ts';
import { createProgress } from './progress.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The terminal stream progress bars draw on, when there is one. */
  interactiveStream?: NodeJS.WritableStream | undefined;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: the run stops at the next safe point. */
  signal?: AbortSignal;
}

const usage = renderUsage();

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    io.stderr(`${describeError(error)}\n\n${usage}\n`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout(`${productName} ${productVersion}\n`);
    return ExitCode.ok;
  }
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    io.stdout(`${usage}\n`);
    return command === undefined && !values.help ? ExitCode.usage : ExitCode.ok;
  }
  const logFormat = values['log-format'];
  if (logFormat !== 'text' && logFormat !== 'json') {
    io.stderr(`--log-format must be text or json (got "${logFormat}").\n`);
    return ExitCode.usage;
  }
  const logger = createConsoleLogger({
    format: logFormat,
    minimumLevel: values.quiet ? 'warn' : 'info',
    write: (line) => io.stderr(`${line}\n`),
  });
  // Made when a command reports progress: a bad interval variable fails only those.
  const progress = () =>
    createProgress({
      quiet: values.quiet,
      format: logFormat,
      interactive: io.interactiveStream !== undefined && !readVariable(io.env, 'CI'),
      intervalMs: readVariable(io.env, 'ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS'),
      write: (line) => io.stderr(`${line}\n`),
      stream: io.interactiveStream ?? process.stderr,
    });
  try {
    switch (command) {
      case 'run':
        return await runCommand({
          configPath: values.config,
          job: values.job,
          dryRun: values['dry-run'],
          approval: approvalFrom(values['allow-deletes'], values['allow-adoptions'], io.env),
          progress: progress(),
          outDir: values.out,
          terminal: io.interactiveStream !== undefined,
          env: io.env,
          logger,
          signal: io.signal ?? new AbortController().signal,
          stdout: io.stdout,
        });
      case 'sync-user': {
        const user = positionals[1];
        if (!user) {
          io.stderr('sync-user needs the object ID or UPN of an Entra user.\n');
          return ExitCode.usage;
        }
        return await runCommand({
          configPath: values.config,
          job: values.job,
          dryRun: values['dry-run'],
          approval: approvalFrom(undefined, values['allow-adoptions'], io.env),
          progress: progress(),
          singleUser: user,
          outDir: values.out,
          terminal: io.interactiveStream !== undefined,
          env: io.env,
          logger,
          signal: io.signal ?? new AbortController().signal,
          stdout: io.stdout,
        });
      }
      case 'check':
        return await checkCommand({
          configPath: values.config,
          job: values.job,
          env: io.env,
          stdout: io.stdout,
        });
      case 'schema':
        io.stdout(renderJobsJsonSchema());
        return ExitCode.ok;
      case 'state':
        return await stateCommand({
          action: positionals[1],
          configPath: values.config,
          job: values.job,
          env: io.env,
          stdout: io.stdout,
        });
      default:
        io.stderr(`Unknown command "${command}".\n\n${usage}\n`);
        return ExitCode.usage;
    }
  } catch (error) {
    io.stderr(`${describeError(error)}\n`);
    return error instanceof ActionableError ? error.exitCode : ExitCode.failed;
  }
}

/** Who approves from a terminal or a cron host: the OS user (GITHUB_ACTOR inside Actions). */
function approverName(env: Env): string {
  const actor = readVariable(env, 'GITHUB_ACTOR');
  if (actor) return actor;
  try {
    return userInfo().username;
  } catch {
    return readVariable(env, 'USER') ?? 'unknown user';
  }
}

function approvalFrom(
  deletes: string | undefined,
  adoptions: string | undefined,
  env: Env,
): ApprovalRequest | undefined {
  const request = {
    deletes: parseApprovalPin(deletes),
    adoptions: parseApprovalPin(adoptions),
    by: approverName(env),
  };
  return request.deletes || request.adoptions ? request : undefined;
}
