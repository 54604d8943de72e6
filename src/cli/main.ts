// The container / terminal entry: parses the command line and returns an exit code
// (never calls process.exit, so tests can run it in-process).
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { renderJobsJsonSchema } from '../config/json-schema.ts';
import { ActionableError, describeError, ExitCode } from '../errors.ts';
import { type ApprovalRequest, parseApprovalPin } from '../rules/approvals.ts';
import { productName, productVersion } from '../version.ts';
import { checkCommand } from './commands/check.ts';
import { runCommand } from './commands/run.ts';
import { stateCommand } from './commands/state.ts';
import { createConsoleLogger } from './console-logger.ts';
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

const usage = `Usage: ${productName} <command> [options]

Commands:
  run                 sync every job (or --job NAME); --dry-run plans without writing
  check               self-test of config, Entra, Graph and WordPress
  sync-user <id|upn>  sync one user now
  schema              print the JSON Schema of jobs.yaml
  state show|reset    inspect or clear a job's checkpoint
  state unlock --job NAME
                      free the job's lock, left by a run that is gone

Options:
  -c, --config FILE   jobs.yaml (default ./jobs.yaml)
  --job NAME          only this job
  --out DIR           write the run's reports into DIR
  --dry-run           plan and report, write nothing
  --allow-deletes [N|RUN_ID]
                      approve the removals the last held run listed (exactly
                      those; N or RUN_ID pins the list's size or the held run)
  --allow-adoptions [N|RUN_ID]
                      link the existing accounts the last held run listed
  --quiet             only warnings and errors
  --log-format FMT    text (default) or json
  -h, --help          this help
  -v, --version       the version

Exit codes: 0 done, or skipped because another run holds the job; 1 failed;
2 bad usage or config; 3 some users failed; 4 deletions held back by the safety
threshold; 130/143 interrupted.`;

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
  const logFormat = values['log-format'] ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') {
    io.stderr(`--log-format must be text or json (got "${logFormat}").\n`);
    return ExitCode.usage;
  }
  const logger = createConsoleLogger({
    format: logFormat,
    minimumLevel: values.quiet ? 'warn' : 'info',
    write: (line) => io.stderr(`${line}\n`),
  });
  const progress = createProgress({
    quiet: values.quiet ?? false,
    format: logFormat,
    interactive: io.interactiveStream !== undefined && !io.env.CI,
    intervalMs: Number(io.env.ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS ?? 5000),
    write: (line) => io.stderr(`${line}\n`),
    stream: io.interactiveStream ?? process.stderr,
  });
  try {
    switch (command) {
      case 'run':
        return await runCommand({
          configPath: values.config ?? 'jobs.yaml',
          job: values.job,
          dryRun: values['dry-run'] ?? false,
          approval: approvalFrom(values['allow-deletes'], values['allow-adoptions'], io.env),
          progress,
          outDir: values.out,
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
          configPath: values.config ?? 'jobs.yaml',
          job: values.job,
          dryRun: values['dry-run'] ?? false,
          approval: approvalFrom(undefined, values['allow-adoptions'], io.env),
          progress,
          singleUser: user,
          outDir: values.out,
          env: io.env,
          logger,
          signal: io.signal ?? new AbortController().signal,
          stdout: io.stdout,
        });
      }
      case 'check':
        return await checkCommand({
          configPath: values.config ?? 'jobs.yaml',
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
          configPath: values.config ?? 'jobs.yaml',
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

const approvalFlags = new Set(['--allow-deletes', '--allow-adoptions']);

/**
 * The approval flags take an optional value (a count or a held run's id): a bare flag is
 * spelled out as "held" here, since parseArgs knows only flags with or without a value.
 */
function withApprovalValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    out.push(arg);
    if (!approvalFlags.has(arg)) continue;
    const next = argv[index + 1];
    if (next !== undefined && (/^\d+$/.test(next) || /^\d{8}T\d{6}/.test(next))) {
      out.push(next);
      index++;
    } else out.push('held');
  }
  return out;
}

/** Who approves from a terminal or a cron host: the OS user (GITHUB_ACTOR inside Actions). */
function approverName(env: NodeJS.ProcessEnv): string {
  if (env.GITHUB_ACTOR) return env.GITHUB_ACTOR;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'unknown user';
  }
}

function approvalFrom(
  deletes: string | undefined,
  adoptions: string | undefined,
  env: NodeJS.ProcessEnv,
): ApprovalRequest | undefined {
  const request = {
    deletes: parseApprovalPin(deletes),
    adoptions: parseApprovalPin(adoptions),
    by: approverName(env),
  };
  return request.deletes || request.adoptions ? request : undefined;
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: withApprovalValues(argv),
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      job: { type: 'string' },
      out: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'allow-deletes': { type: 'string' },
      'allow-adoptions': { type: 'string' },
      quiet: { type: 'boolean' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}
