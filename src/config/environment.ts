// Every environment variable the product reads, once: what it is for, its default, whether
// it is a secret and who reads it. Code reads a variable through readVariable (typed by the
// table, so a misspelt name does not compile); the Action masks the values of the secret
// ones; README.md's table of variables is rendered from here (scripts/environment-reference.ts);
// test/config/environment.test.ts fails when a module reads a variable that is not here.
// Its length is the table's: one entry of five lines per variable, kept in one place on purpose.
import { ActionableError, ExitCode } from '../errors.ts';
import type { Env } from './env.ts';

/** The parts of the product that read a variable, as the README's table names them. */
export type EnvironmentReader =
  | 'sync'
  | 'self-test'
  | 'state commands'
  | 'CLI'
  | 'Action'
  | 'Action post step'
  | 'Node.js'
  | '@actions/core';

/** A value as the environment holds it, turned into what the code uses; bad text is refused by name. */
interface ValueKind<T> {
  read(text: string | undefined, name: string): T;
}

export interface EnvironmentVariable {
  name: string;
  description: string;
  /** As the README shows it; absent when an unset variable simply means "not used". */
  default?: string;
  /** Its value must never reach a log: the Action registers it with the runner as a secret. */
  secret: boolean;
  readBy: readonly EnvironmentReader[];
}

interface VariableDefinition<T> extends Omit<EnvironmentVariable, 'name'> {
  value: ValueKind<T>;
}

/** A bad value, named with what to write instead. */
export class EnvironmentError extends ActionableError {
  readonly variable: string;

  constructor(variable: string, expected: string, got: string, example: string) {
    super(`The environment variable ${variable} must be ${expected} (got "${got}").`, {
      exitCode: ExitCode.usage,
      hint: `Set e.g. ${variable}=${example}, or unset it for the default.`,
    });
    this.name = 'EnvironmentError';
    this.variable = variable;
  }
}

// An empty value counts as unset: runners and `docker run -e NAME` pass unset names as "".
const present = (text: string | undefined): text is string => text !== undefined && text !== '';

const text: ValueKind<string | undefined> = {
  read: (value) => (present(value) ? value : undefined),
};

/** GitHub's own flags are exactly "true" when on. */
const isTrue: ValueKind<boolean> = { read: (value) => value === 'true' };

/** Any value switches it on, as CI systems set CI=1, CI=true or CI=yes. */
const isSet: ValueKind<boolean> = { read: (value) => present(value) };

interface WholeNumbers {
  min: number;
  max?: number;
  /** A value the hint of a refusal suggests. */
  example: number;
}

function wholeNumber(range: WholeNumbers, fallback: number): ValueKind<number>;
function wholeNumber(range: WholeNumbers): ValueKind<number | undefined>;
function wholeNumber(range: WholeNumbers, fallback?: number): ValueKind<number | undefined> {
  const expected =
    range.max === undefined
      ? `a whole number of at least ${range.min}`
      : `a whole number from ${range.min} to ${range.max}`;
  const inRange = (number: number) =>
    Number.isSafeInteger(number) && number >= range.min && (range.max === undefined || number <= range.max);
  return {
    read(value, name) {
      if (!present(value)) return fallback;
      const number = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
      if (inRange(number)) return number;
      throw new EnvironmentError(name, expected, value, String(range.example));
    },
  };
}

/** on or off; anything else is more likely a typo than a wish. */
function onOff(fallback: 'on' | 'off'): ValueKind<boolean> {
  return {
    read(value, name) {
      const setting = present(value) ? value.trim().toLowerCase() : fallback;
      if (setting === 'on' || setting === 'off') return setting === 'on';
      throw new EnvironmentError(name, 'on or off', value ?? '', fallback === 'on' ? 'off' : 'on');
    },
  };
}

/** One of a few words; anything else is refused with the list. */
function oneOf<const Words extends readonly string[]>(words: Words): ValueKind<Words[number] | undefined> {
  return {
    read(value, name) {
      if (!present(value)) return undefined;
      const word = value.trim().toLowerCase();
      if ((words as readonly string[]).includes(word)) return word as Words[number];
      throw new EnvironmentError(name, `one of ${words.join(', ')}`, value, words[0] ?? '');
    },
  };
}

const syncAndSelfTest = ['sync', 'self-test'] as const;

/** A text the GitHub runner sets for every job: no secret, no default. */
function runnerVariable(
  description: string,
  readBy: readonly EnvironmentReader[],
): VariableDefinition<string | undefined> {
  return { description, secret: false, readBy, value: text };
}

export const environmentVariables = {
  AZURE_CLIENT_SECRET: {
    description:
      "The Entra app's client secret; tried first of the Entra credentials (names as in @azure/identity).",
    secret: true,
    readBy: syncAndSelfTest,
    value: text,
  },
  AZURE_CLIENT_CERTIFICATE_PATH: {
    description: 'Path of a PEM file with the certificate and its private key, when no client secret is set.',
    secret: false,
    readBy: syncAndSelfTest,
    value: text,
  },
  AZURE_CLIENT_CERTIFICATE_PASSWORD: {
    description: "Password of that certificate file's private key, if it has one.",
    secret: true,
    readBy: syncAndSelfTest,
    value: text,
  },
  AZURE_FEDERATED_TOKEN_FILE: {
    description:
      'File holding a federated token (Kubernetes workload identity), when neither a secret nor a certificate is set.',
    secret: false,
    readBy: syncAndSelfTest,
    value: text,
  },
  ACTIONS_ID_TOKEN_REQUEST_URL: {
    description:
      'Set by GitHub Actions for a job with `permissions: id-token: write`: where the GitHub OIDC token for Entra federation is requested.',
    secret: false,
    readBy: syncAndSelfTest,
    value: text,
  },
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: {
    description: 'Set by GitHub Actions with the URL above: the token that request is made with.',
    secret: true,
    readBy: syncAndSelfTest,
    value: text,
  },
  WORDPRESS_APP_PASSWORD: {
    description:
      "The application password of the job's WordPress account. A job with `wordpress.applicationPasswordEnv` reads the variable it names instead, masked as well.",
    secret: true,
    readBy: ['sync', 'self-test', 'state commands', 'Action post step'],
    value: text,
  },
  SMTP_URL: {
    description: '`smtp(s)://user:password@host:port` for summary emails sent with `notify.email.via: smtp`.',
    secret: true,
    readBy: syncAndSelfTest,
    value: text,
  },
  NODE_EXTRA_CA_CERTS: {
    description:
      'A PEM file of extra certificate authorities to trust (a TLS-inspecting proxy, a private CA on the site); read by Node.js at start.',
    secret: false,
    readBy: ['Node.js'],
    value: text,
  },
  ENTRA_WP_SYNC_BATCH: {
    description:
      '`off` writes one user per request even where WordPress offers `/batch/v1` (a security plugin that blocks it, comparisons).',
    default: 'on',
    secret: false,
    readBy: ['sync'],
    value: onOff('on'),
  },
  ENTRA_WP_SYNC_FULL_INDEX_LIMIT: {
    description:
      "Up to this many WordPress users, a run reads the site's whole user list once; above it, each page looks up its own users (flat memory on big sites).",
    default: '20000',
    secret: false,
    readBy: ['sync'],
    value: wholeNumber({ min: 0, example: 20_000 }),
  },
  ENTRA_WP_SYNC_LEASE_RENEW_MS: {
    description:
      "How often, in milliseconds, a run renews its lock's 2-minute lease on the WordPress state backend between checkpoints (at most 30000).",
    default: '30000',
    secret: false,
    readBy: ['sync'],
    value: wholeNumber({ min: 1, max: 30_000, example: 10_000 }, 30_000),
  },
  ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS: {
    description: 'At most one progress line per job this often, in milliseconds (0: one per page).',
    default: '5000',
    secret: false,
    readBy: ['CLI', 'Action'],
    value: wholeNumber({ min: 0, example: 5000 }, 5000),
  },
  ENTRA_WP_SYNC_TRIGGER: {
    description:
      "What started the run, as the site's run history (Users → Entra ID sync) shows it: `schedule`, `dispatch`, `manual`, `container`, `push` or `other`. Default: from GITHUB_EVENT_NAME in GitHub Actions; elsewhere `manual` on a terminal, `container` otherwise.",
    secret: false,
    readBy: ['sync'],
    value: oneOf(['schedule', 'dispatch', 'manual', 'container', 'push', 'other']),
  },
  CI: {
    description: 'Set to anything: no progress bars on a terminal, progress lines instead.',
    secret: false,
    readBy: ['CLI'],
    value: isSet,
  },
  USER: {
    description: 'Who approved removals or adoptions, when the operating system does not say.',
    secret: false,
    readBy: ['CLI'],
    value: text,
  },
  GITHUB_ACTIONS: {
    description:
      '`true` inside GitHub Actions (set by the runner): GitHub OIDC is the Entra credential of last resort, `max-runtime` defaults to 50m, held lists are approved with inputs.',
    secret: false,
    readBy: ['sync', 'self-test', 'Action'],
    value: isTrue,
  },
  GITHUB_ACTOR: runnerVariable(
    'Set by the runner: who approved removals or adoptions, as the run and its summary record it.',
    ['CLI', 'Action'],
  ),
  GITHUB_SERVER_URL: runnerVariable(
    "Set by the runner; with the two below, the run's page that locks and summaries link to.",
    ['sync', 'Action'],
  ),
  GITHUB_REPOSITORY: runnerVariable('Set by the runner: owner/name of the repository the workflow runs in.', [
    'sync',
    'Action',
  ]),
  GITHUB_RUN_ID: runnerVariable(
    "Set by the runner: the workflow run's id, also in the default `out` directory.",
    ['sync', 'Action'],
  ),
  GITHUB_RUN_ATTEMPT: runnerVariable(
    "Set by the runner: the run's attempt (1 when unset), so a re-run's lock and reports are its own.",
    ['sync', 'Action'],
  ),
  GITHUB_EVENT_NAME: runnerVariable(
    "Set by the runner: the event that started the workflow, the run's trigger in the site's run history.",
    ['sync'],
  ),
  GITHUB_WORKSPACE: runnerVariable("Set by the runner: annotations name jobs.yaml's path relative to it.", [
    'Action',
  ]),
  GITHUB_STEP_SUMMARY: runnerVariable(
    'Set by the runner: the file the step summary is written to (none: no step summary).',
    ['Action'],
  ),
  RUNNER_DEBUG: {
    description:
      'Set by GitHub when a run is re-run with debug logging: the credential, the state backend and each request in the log.',
    secret: false,
    readBy: ['@actions/core'],
    value: isTrue,
  },
} as const satisfies Record<string, VariableDefinition<unknown>>;

export type VariableName = keyof typeof environmentVariables;

export type VariableValue<N extends VariableName> = ReturnType<
  (typeof environmentVariables)[N]['value']['read']
>;

/** One variable's value, parsed and defaulted as the table says; an EnvironmentError for a bad value. */
export function readVariable<N extends VariableName>(env: Env, name: N): VariableValue<N> {
  return environmentVariables[name].value.read(env[name], name) as VariableValue<N>;
}

/** What the variable means when it is not set. */
export function variableDefault<N extends VariableName>(name: N): VariableValue<N> {
  return readVariable({}, name);
}

/** The table as rows, in the order the README lists them. */
export const environmentTable: readonly EnvironmentVariable[] = Object.entries(environmentVariables).map(
  ([name, { value: _value, ...row }]) => ({ name, ...row }),
);

/** The name a job's application password is read from unless wordpress.applicationPasswordEnv says otherwise. */
export const defaultApplicationPasswordVariable = 'WORDPRESS_APP_PASSWORD' satisfies VariableName;

/** A job's application password: the variable jobs.yaml names (any name, so not in the table). */
export function readApplicationPassword(env: Env, variable: string): string | undefined {
  return text.read(env[variable], variable);
}

/** The application password a job cannot run without, or an error that says where to put it. */
export function requireApplicationPassword(
  env: Env,
  job: { name: string; wordpress: { username: string; applicationPasswordEnv: string } },
): string {
  const variable = job.wordpress.applicationPasswordEnv;
  const value = readApplicationPassword(env, variable);
  if (value !== undefined) return value;
  throw new ActionableError(`Job "${job.name}": ${variable} is not set.`, {
    exitCode: ExitCode.usage,
    hint: `Put the WordPress application password of "${job.wordpress.username}" in the ${variable} environment variable (a secret in GitHub Actions).`,
  });
}

/** Names whose values are secrets: the table's, and each job's application password variable. */
export function secretVariableNames(
  jobs: readonly { wordpress: { applicationPasswordEnv: string } }[] = [],
): string[] {
  const names = environmentTable.filter((variable) => variable.secret).map((variable) => variable.name);
  return [...new Set([...names, ...jobs.map((job) => job.wordpress.applicationPasswordEnv)])];
}

/** The values to mask: those of the secret variables that are set. */
export function secretValues(
  env: Env,
  jobs?: readonly { wordpress: { applicationPasswordEnv: string } }[],
): string[] {
  return secretVariableNames(jobs).flatMap((name) => text.read(env[name], name) ?? []);
}
