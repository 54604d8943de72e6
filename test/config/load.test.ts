import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig, parseConfigText, selectJobs } from '../../src/config/load.ts';
import { ExitCode } from '../../src/errors.ts';
import { clientId, configWithJob, tenantId } from './fixtures.ts';

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfigText(text, 'jobs.yaml', env, '/srv/sync');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(ExitCode.usage);
    return (error as ConfigError).message.split('\n').map((line) => line.trim());
  }
  throw new Error('expected the configuration to be refused');
}

describe('loading jobs.yaml', () => {
  it('resolves a minimal valid file with every default filled in', () => {
    const config = parseConfigText(configWithJob(), 'jobs.yaml', {}, '/srv/sync');
    expect(config.file).toBe('jobs.yaml');
    expect(config.directory).toBe('/srv/sync');
    const [job] = config.jobs;
    expect(job).toMatchObject({
      name: 'staff',
      graph: { tenantId, clientId, cloud: 'global' },
      wordpress: {
        url: 'https://intranet.example.com',
        username: 'entra-sync',
        applicationPasswordEnv: 'WORDPRESS_APP_PASSWORD',
      },
      state: { backend: 'file', directory: '/srv/sync/.entra-wp-sync-state' },
      source: { kind: 'users', delta: false, count: true },
      match: ['objectId', 'email', 'username'],
      actions: { create: true, update: true, delete: 'none' },
      deleteScope: 'managed',
      guests: 'ignore',
      protect: [],
      roles: {
        default: 'subscriber',
        mode: 'replace',
        rules: [],
        allowPrivileged: false,
        manageAdministrators: false,
      },
      avatar: { enabled: false, size: '240x240' },
      notify: {},
      safety: { maxDeletes: { kind: 'percent', value: 5 } },
      limits: { pageSize: 999, concurrency: 4 },
    });
    expect(job?.limits.maxRuntime).toBeUndefined();
    expect(job?.map.user_login).toMatchObject({ kind: 'path', text: 'userPrincipalName' });
    expect(job?.map.meta).toEqual({});
  });

  it('keeps default mappings for fields a job does not mention and uses the job mapping for the rest', () => {
    const config = parseConfigText(
      configWithJob(
        '    map:\n      first_name: preferredName\n      meta:\n        office: officeLocation\n',
      ),
      'jobs.yaml',
      {},
    );
    const map = config.jobs[0]!.map;
    expect(map.first_name).toMatchObject({ kind: 'path', text: 'preferredName' });
    expect(map.last_name).toMatchObject({ kind: 'path', text: 'surname' });
    expect(map.user_email).toMatchObject({ kind: 'first' });
    expect(map.meta.office).toMatchObject({ kind: 'path', text: 'officeLocation' });
  });

  it('reports an unknown key with file, line, column and a did-you-mean', () => {
    const lines = problems(configWithJob('    actoins:\n      delete: soft\n'));
    expect(lines).toContain('jobs.yaml:11:5 jobs[0].actoins: unknown key "actoins"; did you mean "actions"?');
  });

  it('lists the allowed keys when an unknown key is not close to any of them', () => {
    const lines = problems(configWithJob('    colour: blue\n'));
    expect(lines[0]).toMatch(
      /^jobs\.yaml:11:5 jobs\[0\]\.colour: unknown key "colour"; allowed keys: name, graph,/,
    );
  });

  it('reports a value of the wrong type with what was given', () => {
    const lines = problems(configWithJob('    actions:\n      create: "yes please"\n'));
    expect(lines).toEqual([
      'jobs.yaml:12:15 jobs[0].actions.create: must be true or false (got "yes please")',
    ]);
  });

  it('reports a value outside an enum with the allowed values and a suggestion', () => {
    expect(problems(configWithJob('    actions:\n      delete: purge\n'))).toEqual([
      'jobs.yaml:12:15 jobs[0].actions.delete: must be one of none, soft, hard (got "purge")',
    ]);
    expect(problems(configWithJob('    guests: inclde\n'))[0]).toContain(
      '(got "inclde"; did you mean "include"?)',
    );
  });

  it('reports every problem of the file at once', () => {
    const lines = problems(configWithJob('    guests: all\n    limits:\n      pageSize: 0\n'));
    expect(lines[0]).toBe('2 problems in the configuration:');
    expect(lines).toHaveLength(3);
  });

  it('refuses duplicate job names and names the earlier job', () => {
    const text = `${configWithJob()}  - name: staff\n    source:\n      groups: [Staff]\n`;
    expect(problems(text)).toEqual([
      'jobs.yaml:11:11 jobs[1].name: duplicate job name "staff" (also used by jobs[0])',
    ]);
  });

  it('refuses a job name that cannot be used in file names', () => {
    expect(problems(configWithJob().replace('name: staff', 'name: Staff Sync'))[0]).toMatch(
      /^jobs\.yaml:8:11 jobs\[0\]\.name: must be 1–63 characters/,
    );
  });

  it('requires reassignPostsTo when deletions are hard', () => {
    expect(problems(configWithJob('    actions:\n      delete: hard\n'))).toEqual([
      "jobs.yaml:11:5 jobs[0].actions.reassignPostsTo: is required when delete is hard: name the login or user ID that receives deleted users' posts",
    ]);
    const config = parseConfigText(
      configWithJob('    actions:\n      delete: hard\n      reassignPostsTo: 1\n'),
      'j',
      {},
    );
    expect(config.jobs[0]!.actions).toMatchObject({ delete: 'hard', reassignPostsTo: 1 });
  });

  it('requires exactly one of users or groups as the source', () => {
    const both = configWithJob().replace('users: {}', 'users: {}\n      groups: [Staff]');
    expect(problems(both)).toEqual(['jobs.yaml:9:5 jobs[0].source: needs exactly one of users: or groups:']);
  });

  it('refuses a rule granting administrator unless allowPrivileged is true', () => {
    const rules = '    roles:\n      rules:\n        - group: IT Admins\n          role: administrator\n';
    expect(problems(configWithJob(rules))[0]).toMatch(
      /^jobs\.yaml:14:17 jobs\[0\]\.roles\.rules\[0\]\.role: role "administrator" is privileged/,
    );
    const allowed = parseConfigText(configWithJob(`${rules}      allowPrivileged: true\n`), 'jobs.yaml', {});
    expect(allowed.jobs[0]!.roles.rules).toEqual([{ group: 'IT Admins', role: 'administrator' }]);
  });

  it('treats any role whose name contains "admin" as privileged, also as default or guest role', () => {
    const lines = problems(
      configWithJob('    roles:\n      default: shop_admin\n      guestRole: SiteAdmin\n'),
    );
    expect(lines.join('\n')).toContain('jobs[0].roles.default: role "shop_admin" is privileged');
    expect(lines.join('\n')).toContain('jobs[0].roles.guestRole');
  });

  it('accepts an empty default role meaning no role', () => {
    const config = parseConfigText(configWithJob('    roles:\n      default: ""\n'), 'jobs.yaml', {});
    expect(config.jobs[0]!.roles.default).toBe('');
  });

  it.each([
    ['_secret', 'protected meta'],
    ['wp_capabilities', 'roles and capabilities'],
    ['wp_user_level', 'level'],
    ['session_tokens', 'sessions'],
    ['entra_wp_sync_object_id', 'own markers'],
  ])('refuses the reserved meta key %s', (key, reason) => {
    const lines = problems(configWithJob(`    map:\n      meta:\n        ${key}: mail\n`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^jobs\\.yaml:13:9 jobs\\[0\\]\\.map\\.meta\\.${key}: key "${key}" is not allowed`),
    );
    expect(lines[0]).toContain(reason);
  });

  it('refuses a page size above the Graph maximum of 999', () => {
    expect(problems(configWithJob('    limits:\n      pageSize: 1000\n'))).toEqual([
      'jobs.yaml:12:17 jobs[0].limits.pageSize: must be at most 999 (got 1000)',
    ]);
  });

  it.each([
    ['30m', 1800],
    ['90s', 90],
    ['2h', 7200],
    ['600', 600],
  ])('normalises maxRuntime %s to %i seconds', (text, seconds) => {
    const config = parseConfigText(
      configWithJob(`    limits:\n      maxRuntime: "${text}"\n`),
      'jobs.yaml',
      {},
    );
    expect(config.jobs[0]!.limits.maxRuntime).toBe(seconds);
  });

  it('accepts maxDeletes as a count and refuses a percentage above 100', () => {
    const config = parseConfigText(configWithJob('    safety:\n      maxDeletes: 25\n'), 'jobs.yaml', {});
    expect(config.jobs[0]!.safety.maxDeletes).toEqual({ kind: 'count', value: 25 });
    expect(problems(configWithJob('    safety:\n      maxDeletes: "150%"\n'))[0]).toContain(
      'must be a count or a percentage',
    );
  });

  it('merges a job graph and wordpress override over the shared settings', () => {
    const override = `    graph:\n      tenantId: partner.onmicrosoft.com\n      cloud: usgov\n    wordpress:\n      url: https://partners.example.com\n`;
    const job = parseConfigText(configWithJob(override), 'jobs.yaml', {}).jobs[0]!;
    expect(job.graph).toEqual({ tenantId: 'partner.onmicrosoft.com', clientId, cloud: 'usgov' });
    expect(job.wordpress).toEqual({
      url: 'https://partners.example.com',
      username: 'entra-sync',
      applicationPasswordEnv: 'WORDPRESS_APP_PASSWORD',
    });
  });

  it('names the job that ends up without a tenant or a site', () => {
    const text = `jobs:\n  - name: lonely\n    source: { groups: [Staff] }\n    graph: { clientId: ${clientId} }\n`;
    const lines = problems(text);
    expect(lines).toContain(
      'jobs.yaml:4:5 jobs[0].graph.tenantId: job "lonely" has no graph.tenantId: set it in the top-level graph: section or in the job\'s own graph:',
    );
    expect(
      lines.some((line) => line.startsWith('jobs.yaml:2:5 jobs[0].wordpress.url: job "lonely" has no')),
    ).toBe(true);
  });

  it('refuses deleteScope domains with a misspelt key by suggesting the right one only', () => {
    expect(problems(configWithJob('    deleteScope:\n      domain: [contoso.com]\n'))).toEqual([
      'jobs.yaml:12:7 jobs[0].deleteScope.domain: unknown key "domain"; did you mean "domains"?',
    ]);
    const config = parseConfigText(
      configWithJob('    deleteScope:\n      domains: ["@Contoso.com"]\n'),
      'j',
      {},
    );
    expect(config.jobs[0]!.deleteScope).toEqual({ domains: ['contoso.com'] });
  });

  it('refuses a mapping with a broken attribute path at load time', () => {
    expect(problems(configWithJob('    map:\n      first_name: "given name"\n'))[0]).toMatch(
      /^jobs\.yaml:12:19 jobs\[0\]\.map\.first_name: "given name" is not an attribute path/,
    );
  });

  it('reports a YAML syntax error with its line and column', () => {
    const lines = problems('jobs:\n  - name: a\n    source: { users: {}\n  other: x\n');
    expect(lines[0]).toMatch(/^(\d+ problems in the configuration:|jobs\.yaml:4:3 YAML syntax error: )/);
    expect(lines.join('\n')).toContain('jobs.yaml:4:3 YAML syntax error:');
  });

  it('reports a duplicated key as a YAML error', () => {
    const lines = problems(configWithJob('    guests: include\n    guests: ignore\n'));
    expect(lines[0]).toMatch(/^jobs\.yaml:12:5 YAML syntax error: Map keys must be unique/);
  });

  it('says so when the file does not exist, with exit code 2', async () => {
    await expect(loadConfig('/nonexistent/jobs.yaml', {})).rejects.toMatchObject({
      exitCode: ExitCode.usage,
      message: '/nonexistent/jobs.yaml:1:1 the configuration file does not exist',
    });
  });

  it('refuses an empty file', () => {
    expect(problems('# nothing here\n')).toEqual([
      'jobs.yaml:1:1 the file is empty; it needs at least jobs:',
    ]);
  });
});

describe('selecting jobs', () => {
  const text = `${configWithJob()}  - name: partners\n    source:\n      groups: [Partners]\n`;
  const config = parseConfigText(text, 'jobs.yaml', {});

  it('returns every job when no name is given', () => {
    expect(selectJobs(config).map((job) => job.name)).toEqual(['staff', 'partners']);
  });

  it('returns the named job', () => {
    expect(selectJobs(config, ['partners']).map((job) => job.name)).toEqual(['partners']);
  });

  it('refuses an unknown job name with exit code 2 and lists the available ones', () => {
    expect(() => selectJobs(config, ['partner'])).toThrowError(
      expect.objectContaining({
        exitCode: ExitCode.usage,
        message: 'no job named "partner" in jobs.yaml; available jobs: staff, partners',
        hint: 'Did you mean --job partners?',
      }),
    );
  });
});
