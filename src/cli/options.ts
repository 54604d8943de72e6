// The CLI's commands and options, once: the usage text and parseArgs' options are made
// from these tables, so no flag is accepted without being documented, or documented
// without being accepted (test/cli/options.test.ts checks both).
import { parseArgs } from 'node:util';
import { productName } from '../version.ts';

export interface CliCommand {
  name: string;
  /** What follows the name on the command line, as the usage text shows it. */
  arguments?: string;
  description: string;
}

export interface CliOption {
  short?: string;
  /** What the option's value is called in the usage text; an option without one is a flag. */
  value?: string;
  /**
   * The value may be left out: the next argument is taken as the value only when it looks
   * like one, and a bare option means `whenLeftOut` (parseArgs knows only options with
   * or without a value).
   */
  optionalValue?: { looksLikeValue: RegExp; whenLeftOut: string };
  /** A line break is where the usage text wraps the description. */
  description: string;
  /** What the command gets when the option is not given; the description mentions it. */
  default?: string | boolean;
}

export const cliCommands: readonly CliCommand[] = [
  { name: 'run', description: 'sync every job (or --job NAME); --dry-run plans without writing' },
  { name: 'check', description: 'self-test of config, Entra, Graph and WordPress' },
  { name: 'sync-user', arguments: '<id|upn>', description: 'sync one user now' },
  { name: 'schema', description: 'print the JSON Schema of jobs.yaml' },
  { name: 'state', arguments: 'show|reset', description: "inspect or clear a job's checkpoint" },
  {
    name: 'state',
    arguments: 'unlock --job NAME',
    description: "free the job's lock, left by a run that is gone",
  },
];

/** An approval's pin: a count of the held list ("40") or the id of the run that held it. */
const approvalPin = { looksLikeValue: /^\d+$|^\d{8}T\d{6}/, whenLeftOut: 'held' };

export const cliOptions = {
  config: {
    short: 'c',
    value: 'FILE',
    description: 'jobs.yaml (default ./jobs.yaml)',
    default: 'jobs.yaml',
  },
  job: { value: 'NAME', description: 'only this job' },
  out: { value: 'DIR', description: "write the run's reports into DIR" },
  'dry-run': { description: 'plan and report, write nothing', default: false },
  'allow-deletes': {
    value: 'N|RUN_ID',
    optionalValue: approvalPin,
    description:
      "approve the removals the last held run listed (exactly\nthose; N or RUN_ID pins the list's size or the held run)",
  },
  'allow-adoptions': {
    value: 'N|RUN_ID',
    optionalValue: approvalPin,
    description: 'link the existing accounts the last held run listed',
  },
  quiet: { description: 'only warnings and errors', default: false },
  'log-format': { value: 'FMT', description: 'text (default) or json', default: 'text' },
  help: { short: 'h', description: 'this help' },
  version: { short: 'v', description: 'the version' },
} as const satisfies Record<string, CliOption>;

const exitCodes = `Exit codes: 0 done, or skipped because another run holds the job; 1 failed;
2 bad usage or config; 3 some users failed; 4 deletions held back by the safety
threshold; 130/143 interrupted.`;

/** Descriptions start in this column; a longer label puts its description on the next line. */
const descriptionColumn = 22;

function usageEntry(label: string, description: string): string[] {
  const indent = ' '.repeat(descriptionColumn);
  const [first = '', ...rest] = description.split('\n');
  const head =
    label.length + 4 <= descriptionColumn
      ? [`  ${label.padEnd(descriptionColumn - 2)}${first}`]
      : [`  ${label}`, `${indent}${first}`];
  return [...head, ...rest.map((line) => `${indent}${line}`)];
}

/** "-c, --config FILE", "--allow-deletes [N|RUN_ID]", "--quiet". */
export function optionLabel(name: string, option: CliOption): string {
  const value = option.value && (option.optionalValue ? ` [${option.value}]` : ` ${option.value}`);
  return `${option.short ? `-${option.short}, ` : ''}--${name}${value ?? ''}`;
}

export function renderUsage(): string {
  const commands = cliCommands.flatMap((command) =>
    usageEntry([command.name, command.arguments].filter(Boolean).join(' '), command.description),
  );
  const options = Object.entries(cliOptions as Record<string, CliOption>).flatMap(([name, option]) =>
    usageEntry(optionLabel(name, option), option.description),
  );
  return [
    `Usage: ${productName} <command> [options]`,
    '',
    'Commands:',
    ...commands,
    '',
    'Options:',
    ...options,
    '',
    exitCodes,
  ].join('\n');
}

type ParseArgsOptions<T extends Record<string, CliOption>> = {
  [Name in keyof T]: {
    type: T[Name] extends { value: string } ? 'string' : 'boolean';
    short?: string;
  } & (T[Name] extends {
    default: infer Default;
  }
    ? { default: Default }
    : unknown);
};

/** The table in parseArgs' terms: typed, so each option's value has the type the table implies. */
export const parseArgsOptions = Object.fromEntries(
  Object.entries(cliOptions as Record<string, CliOption>).map(([name, option]) => [
    name,
    {
      type: option.value ? 'string' : 'boolean',
      ...(option.short ? { short: option.short } : {}),
      ...(option.default !== undefined ? { default: option.default } : {}),
    },
  ]),
) as ParseArgsOptions<typeof cliOptions>;

const optionalValueOptions = new Map(
  Object.entries(cliOptions as Record<string, CliOption>).flatMap(([name, option]) =>
    option.optionalValue ? [[`--${name}`, option.optionalValue] as const] : [],
  ),
) as ReadonlyMap<string, NonNullable<CliOption['optionalValue']>>;

/** The arguments with every option whose value was left out given its `whenLeftOut` value. */
export function withOptionalValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    out.push(arg);
    const optional = optionalValueOptions.get(arg);
    if (!optional) continue;
    const next = argv[index + 1];
    if (next !== undefined && optional.looksLikeValue.test(next)) {
      out.push(next);
      index++;
    } else out.push(optional.whenLeftOut);
  }
  return out;
}

/** Options and positionals (the command and its arguments); throws on an unknown option or a missing value. */
export function parseCommandLine(argv: readonly string[]) {
  return parseArgs({
    args: withOptionalValues(argv),
    allowPositionals: true,
    strict: true,
    options: parseArgsOptions,
  });
}
