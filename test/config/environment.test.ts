// src/config/environment.ts is the one list of the environment variables the product
// reads: a module that reads another one, or reads one around the table, fails here; its
// readers parse, default and refuse values as the table says.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  defaultApplicationPasswordVariable,
  EnvironmentError,
  environmentTable,
  environmentVariables,
  readVariable,
  requireApplicationPassword,
  secretValues,
  secretVariableNames,
  variableDefault,
} from '../../src/config/environment.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { defaultFullIndexLimit } from '../../src/engine/full-cycle.ts';
import { ExitCode } from '../../src/errors.ts';
import { defaultLeaseRenewMs } from '../../src/state/wordpress-store.ts';
import { configWithJob } from './fixtures.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Modules that still read variables themselves, each for a reason. Owned by others for
 * now: when one switches to readVariable / readApplicationPassword, drop it here.
 */
const readsAroundTheTable = new Map([
  // ${VAR} in jobs.yaml may name any variable: that is the file's own syntax.
  ['src/config/env.ts', 'permanent'],
]);

/** `env.NAME`, `env['NAME']`, `env[expression]` and `const { NAME: x } = env` in one module. */
function directReads(source: string): { names: string[]; dynamic: boolean } {
  const names = [
    ...[...source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)].map((match) => match[1]!),
    ...[...source.matchAll(/\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g)].map((match) => match[1]!),
    ...[...source.matchAll(/\{([^{}]*)\}\s*=\s*[\w.]*\benv\b/g)].flatMap((match) =>
      [...match[1]!.matchAll(/\b([A-Z][A-Z0-9_]*)\s*[:,]/g)].map((key) => key[1]!),
    ),
  ];
  return { names, dynamic: /\benv\[(?!\s*['"])/.test(source) };
}

async function sourceFiles(): Promise<string[]> {
  const entries = await readdir(join(root, 'src'), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((path) => path !== 'src/config/environment.ts')
    .sort();
}

describe('the table of environment variables', () => {
  it('names every variable a module reads, and only the modules listed read around it', async () => {
    const readers = new Map<string, string[]>();
    for (const path of await sourceFiles()) {
      const { names, dynamic } = directReads(await readFile(join(root, path), 'utf8'));
      if (names.length > 0 || dynamic) readers.set(path, names);
    }
    const unknown = [...readers].flatMap(([path, names]) =>
      names.filter((name) => !(name in environmentVariables)).map((name) => `${path}: ${name}`),
    );
    expect(unknown, 'add these to src/config/environment.ts').toEqual([]);
    const unlisted = [...readers.keys()].filter((path) => !readsAroundTheTable.has(path));
    expect(unlisted, 'read these through readVariable (src/config/environment.ts)').toEqual([]);
  });

  it('describes each variable and says who reads it', () => {
    for (const variable of environmentTable) {
      expect(variable.description, variable.name).toMatch(/\S{3}/);
      expect(variable.readBy.length, variable.name).toBeGreaterThan(0);
    }
  });

  it("shows the defaults the code uses: the lease's, the progress interval's, the index limit's, batching", () => {
    const shown = (name: string) => environmentTable.find((variable) => variable.name === name)?.default;
    expect(variableDefault('ENTRA_WP_SYNC_LEASE_RENEW_MS')).toBe(defaultLeaseRenewMs);
    expect(shown('ENTRA_WP_SYNC_LEASE_RENEW_MS')).toBe(String(defaultLeaseRenewMs));
    expect(shown('ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS')).toBe(
      String(variableDefault('ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS')),
    );
    // Unset, the engine's own limit applies; the table shows that limit.
    expect(variableDefault('ENTRA_WP_SYNC_FULL_INDEX_LIMIT')).toBeUndefined();
    expect(shown('ENTRA_WP_SYNC_FULL_INDEX_LIMIT')).toBe(String(defaultFullIndexLimit));
    expect(variableDefault('ENTRA_WP_SYNC_BATCH')).toBe(true);
    expect(shown('ENTRA_WP_SYNC_BATCH')).toBe('on');
  });

  it("knows the application password's default variable as jobs.yaml resolves it", () => {
    const config = parseConfigText(configWithJob(), 'jobs.yaml', {});
    expect(config.jobs[0]!.wordpress.applicationPasswordEnv).toBe(defaultApplicationPasswordVariable);
    expect(environmentVariables[defaultApplicationPasswordVariable].secret).toBe(true);
  });
});

describe('readVariable', () => {
  it('treats an empty value as unset, as runners pass unset names', () => {
    expect(readVariable({ AZURE_CLIENT_SECRET: '' }, 'AZURE_CLIENT_SECRET')).toBeUndefined();
    expect(readVariable({ CI: '' }, 'CI')).toBe(false);
    expect(readVariable({ CI: '1' }, 'CI')).toBe(true);
    expect(readVariable({ GITHUB_ACTIONS: 'true' }, 'GITHUB_ACTIONS')).toBe(true);
    expect(readVariable({ GITHUB_ACTIONS: '1' }, 'GITHUB_ACTIONS')).toBe(false);
    expect(
      readVariable({ ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS: '' }, 'ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS'),
    ).toBe(5000);
  });

  it('parses numbers and switches', () => {
    expect(readVariable({ ENTRA_WP_SYNC_LEASE_RENEW_MS: '200' }, 'ENTRA_WP_SYNC_LEASE_RENEW_MS')).toBe(200);
    expect(
      readVariable({ ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS: '0' }, 'ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS'),
    ).toBe(0);
    expect(readVariable({ ENTRA_WP_SYNC_FULL_INDEX_LIMIT: '0' }, 'ENTRA_WP_SYNC_FULL_INDEX_LIMIT')).toBe(0);
    expect(readVariable({ ENTRA_WP_SYNC_BATCH: 'off' }, 'ENTRA_WP_SYNC_BATCH')).toBe(false);
    expect(readVariable({ ENTRA_WP_SYNC_BATCH: 'ON' }, 'ENTRA_WP_SYNC_BATCH')).toBe(true);
  });

  it.each([
    ['ENTRA_WP_SYNC_LEASE_RENEW_MS', '60000', 'must be a whole number from 1 to 30000 (got "60000")'],
    ['ENTRA_WP_SYNC_LEASE_RENEW_MS', '0', 'must be a whole number from 1 to 30000 (got "0")'],
    ['ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS', '5s', 'must be a whole number of at least 0 (got "5s")'],
    ['ENTRA_WP_SYNC_FULL_INDEX_LIMIT', '-1', 'must be a whole number of at least 0 (got "-1")'],
    ['ENTRA_WP_SYNC_BATCH', 'false', 'must be on or off (got "false")'],
  ] as const)('refuses %s=%s, naming the variable and what to write', (name, value, problem) => {
    let refused: unknown;
    try {
      readVariable({ [name]: value }, name);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(EnvironmentError);
    const error = refused as EnvironmentError;
    expect(error.message).toBe(`The environment variable ${name} ${problem}.`);
    expect(error.hint).toMatch(new RegExp(`^Set e\\.g\\. ${name}=\\S+, or unset it for the default\\.$`));
    expect(error.exitCode).toBe(ExitCode.usage);
  });
});

describe('secrets', () => {
  it("are the table's secret variables and each job's application password variable", () => {
    const jobs = [{ wordpress: { applicationPasswordEnv: 'INTRANET_APP_PASSWORD' } }];
    const names = secretVariableNames(jobs);
    expect(names).toEqual(
      expect.arrayContaining([
        'AZURE_CLIENT_SECRET',
        'AZURE_CLIENT_CERTIFICATE_PASSWORD',
        'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
        'WORDPRESS_APP_PASSWORD',
        'SMTP_URL',
        'INTRANET_APP_PASSWORD',
      ]),
    );
    expect(names).not.toContain('AZURE_CLIENT_CERTIFICATE_PATH');
    expect(secretValues({ INTRANET_APP_PASSWORD: 'abcd efgh', SMTP_URL: '', CI: 'x' }, jobs)).toEqual([
      'abcd efgh',
    ]);
  });

  it('a job without its application password is refused with where to put it', () => {
    const job = {
      name: 'staff',
      wordpress: { username: 'entra-sync', applicationPasswordEnv: 'STAFF_PASSWORD' },
    };
    expect(() => requireApplicationPassword({}, job)).toThrow('Job "staff": STAFF_PASSWORD is not set.');
    expect(requireApplicationPassword({ STAFF_PASSWORD: 'abcd efgh' }, job)).toBe('abcd efgh');
  });
});
