import { ActionableError, ExitCode } from '../errors.ts';

/** One problem in a configuration file, located where a person can find it. */
export type ConfigIssue = {
  file: string;
  line: number;
  column: number;
  /** Dotted key path such as jobs[0].actions.delete; empty for problems with the file as a whole. */
  path: string;
  message: string;
};

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}

const defaultHint =
  'Fix the file and run `entra-wp-sync check`. `entra-wp-sync schema` prints the JSON Schema, which ' +
  'editors with a YAML language server use to check the file as you type.';

/** An invalid configuration (exit code 2). The message lists every problem, one per line. */
export class ConfigError extends ActionableError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options: { hint?: string; cause?: unknown } = {}) {
    const lines = issues.map(formatConfigIssue);
    const message =
      lines.length === 1
        ? lines[0]!
        : `${issues.length} problems in the configuration:\n  ${lines.join('\n  ')}`;
    super(message, { hint: options.hint ?? defaultHint, exitCode: ExitCode.usage, cause: options.cause });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
