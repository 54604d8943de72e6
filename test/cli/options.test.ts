// src/cli/options.ts is the one list of the CLI's commands and options: the usage text
// shows each of them, and the command line accepts each option as the table describes it.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import {
  type CliOption,
  cliCommands,
  cliOptions,
  optionLabel,
  parseCommandLine,
} from '../../src/cli/options.ts';

const options = Object.entries(cliOptions as Record<string, CliOption>);

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
  });
  return { code, stdout, stderr };
}

describe('the usage text', () => {
  it('is the one people know', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(`Usage: entra-wp-sync <command> [options]

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
threshold; 130/143 interrupted.
`);
  });

  it('lists every command and every option of the table, each option with its default', async () => {
    const { stdout } = await cli(['--help']);
    const lines = stdout.split('\n');
    for (const command of cliCommands) {
      const synopsis = [command.name, command.arguments].filter(Boolean).join(' ');
      expect(
        lines.some((line) => line.startsWith(`  ${synopsis} `) || line === `  ${synopsis}`),
        synopsis,
      ).toBe(true);
    }
    for (const [name, option] of options) {
      const label = optionLabel(name, option);
      expect(
        lines.some((line) => line.startsWith(`  ${label} `) || line === `  ${label}`),
        label,
      ).toBe(true);
      if (typeof option.default === 'string') expect(option.description, name).toContain(option.default);
    }
  });

  it('is shown, after the problem, for an option the table does not have', async () => {
    const result = await cli(['run', '--dryrun']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Unknown option '--dryrun'/);
    expect(result.stderr).toContain('Options:\n  -c, --config FILE');
  });
});

describe('the command line', () => {
  it.each(options)('accepts --%s as the table describes it', (name, option) => {
    // An optional value is taken only when it looks like one (a count here).
    const value = option.optionalValue ? '12' : 'value-1';
    const { values, positionals } = parseCommandLine(
      option.value ? ['run', `--${name}`, value] : ['run', `--${name}`],
    );
    expect(values[name as keyof typeof values]).toBe(option.value ? value : true);
    expect(positionals).toEqual(['run']);
    if (option.short) {
      const short = parseCommandLine(option.value ? [`-${option.short}`, 'value-2'] : [`-${option.short}`]);
      expect(short.values[name as keyof typeof values]).toBe(option.value ? 'value-2' : true);
    }
  });

  it('gives an option that is left out its default', () => {
    const { values } = parseCommandLine(['run']);
    for (const [name, option] of options) {
      expect(values[name as keyof typeof values], name).toBe(option.default);
    }
  });

  it('takes an optional value only when it looks like one: a count or a held run id', () => {
    const parsed = (...argv: string[]) => {
      const { values, positionals } = parseCommandLine(argv);
      return { deletes: values['allow-deletes'], adoptions: values['allow-adoptions'], positionals };
    };
    expect(parsed('run', '--allow-deletes')).toEqual({
      deletes: 'held',
      adoptions: undefined,
      positionals: ['run'],
    });
    expect(parsed('run', '--allow-deletes', '40')).toMatchObject({ deletes: '40', positionals: ['run'] });
    expect(parsed('--allow-adoptions', '20261123T101500Z-ab12', 'run')).toMatchObject({
      adoptions: '20261123T101500Z-ab12',
      positionals: ['run'],
    });
    // A following command or user is no pin.
    expect(parsed('--allow-adoptions', 'sync-user', 'ada@example.com')).toMatchObject({
      adoptions: 'held',
      positionals: ['sync-user', 'ada@example.com'],
    });
    expect(parsed('run', '--allow-deletes=7')).toMatchObject({ deletes: '7' });
  });

  it('refuses a value the table does not allow, naming the option', async () => {
    const result = await cli(['run', '--log-format', 'xml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('--log-format must be text or json (got "xml").\n');
  });

  it('refuses a bad ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS by name, before the run reads anything', async () => {
    let stderr = '';
    const code = await runCli(['run', '-c', '/nonexistent/jobs.yaml'], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      env: { ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS: '5s' },
    });
    expect(code).toBe(2);
    expect(stderr).toBe(
      'The environment variable ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS must be a whole number of at least 0 (got "5s").\n  hint: Set e.g. ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS=5000, or unset it for the default.\n',
    );
  });
});
