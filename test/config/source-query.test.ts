// source.query takes the Graph users query an administrator tested in another plugin and
// maps it onto source.users, source.count and limits.pageSize; what it cannot map is refused
// by name. The queries below are the ones the WPO365 documentation gives as its default and
// its examples, and the one miniOrange's User Sync sends.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { describeSourceQuery, parseSourceQuery } from '../../src/config/source-query.ts';
import { configWithJob } from './fixtures.ts';

function mapped(text: string) {
  const result = parseSourceQuery(text);
  if (!result.ok) throw new Error(`expected ${text} to map, got: ${result.message}`);
  return result.mapping;
}

function refusal(text: string): string {
  const result = parseSourceQuery(text);
  if (result.ok) throw new Error(`expected ${text} to be refused`);
  return result.message;
}

/** jobs.yaml with the job's source replaced by the given lines (indented under source:). */
function configWithSource(lines: string, job = ''): string {
  return configWithJob(job).replace('    source:\n      users: {}\n', `    source:\n${lines}`);
}

function loadProblems(text: string): string {
  try {
    parseConfigText(text, 'jobs.yaml', {}, '/srv/sync');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('source.query: a Graph users query as other sync plugins take it', () => {
  it("maps WPO365's default query, URL-encoded with + for spaces, onto filter and page size", () => {
    expect(
      mapped('myorganization/users?$filter=accountEnabled+eq+true+and+userType+eq+%27member%27&$top=10'),
    ).toEqual({ filter: "accountEnabled eq true and userType eq 'member'", pageSize: 10, notes: [] });
  });

  it("maps WPO365's advanced query with $count and endsWith", () => {
    expect(
      mapped(
        'myorganization/users?$count=true&$filter=endsWith(userPrincipalName,%27@example.com%27)&$top=10',
      ),
    ).toEqual({ filter: "endsWith(userPrincipalName,'@example.com')", count: true, pageSize: 10, notes: [] });
  });

  it('takes the query written unencoded, with a leading slash or as a full v1.0 URL', () => {
    const expected = { filter: 'accountEnabled eq true', count: true, pageSize: 10, notes: [] };
    expect(mapped('myorganization/users?$filter=accountEnabled eq true&$top=10&$count=true')).toEqual(
      expected,
    );
    expect(mapped('/users?$filter=accountEnabled eq true&$top=10&$count=true')).toEqual(expected);
    expect(
      mapped('https://graph.microsoft.com/v1.0/users?$filter=accountEnabled%20eq%20true&$top=10&$count=true'),
    ).toEqual(expected);
  });

  it('maps $search and keeps its quotes, which Graph requires', () => {
    expect(mapped('/users?$search="displayName:foo"&$count=true')).toEqual({
      search: '"displayName:foo"',
      count: true,
      notes: [],
    });
  });

  it("ignores miniOrange's $select with a note: the job selects what its mapping needs", () => {
    expect(mapped('users?$select=id,userPrincipalName')).toEqual({
      notes: ['$select is ignored: the job selects the attributes its mapping needs'],
    });
  });

  it("caps $top at Graph's 999 users per page and says so", () => {
    const mapping = mapped('users?$top=5000');
    expect(mapping.pageSize).toBe(999);
    expect(mapping.notes.join()).toContain('$top=5000 is above');
  });

  it('shows the structured settings the query stands for', () => {
    expect(
      describeSourceQuery(mapped('myorganization/users?$filter=accountEnabled eq true&$top=10&$count=true')),
    ).toBe('source.users.filter: accountEnabled eq true, source.count: true, limits.pageSize: 10');
    expect(describeSourceQuery(mapped('users'))).toBe('source.users: {} (all users)');
  });

  it('refuses what cannot be mapped, naming the part and what to do', () => {
    expect(refusal('users?$expand=manager')).toMatch(/^\$expand is not supported/);
    expect(refusal('users?$orderby=displayName&$top=10')).toMatch(/^\$orderby is not supported.*remove it/);
    expect(refusal('users?$skiptoken=abc')).toMatch(/^\$skiptoken is not supported/);
    expect(refusal('users?$format=json')).toContain('$format is not supported');
    expect(refusal('users?filter=accountEnabled eq true')).toContain('"filter" is not a Graph query option');
    expect(refusal('users?$top=10&$top=20')).toContain('$top is given twice');
    expect(refusal('users?$top=ten')).toContain('$top must be a whole number');
    expect(refusal('users?$count=yes')).toContain('$count must be true or false');
    expect(refusal('users?$filter=')).toContain('$filter is empty');
    expect(refusal('users?$filter=100%')).toContain('not valid URL encoding');
  });

  it("refuses WPO365's group query and points to source.groups with the group's id", () => {
    const message = refusal(
      'groups/5b3fe273-7ca1-49b4-b59f-b979a31ee341/transitiveMembers?$count=true&$filter=accountEnabled+eq+true&$top=10',
    );
    expect(message).toContain('group member paths are not supported');
    expect(message).toContain('source.groups: [5b3fe273-7ca1-49b4-b59f-b979a31ee341]');
  });

  it('refuses other resources, beta and hosts that are not Graph', () => {
    expect(refusal('/groups?$top=10')).toContain('only the users collection can be synced, not /groups');
    expect(refusal('/me')).toContain('not /me');
    expect(refusal('https://graph.microsoft.com/beta/users?$top=10')).toContain(
      'the beta endpoint is not supported',
    );
    expect(refusal('https://example.com/v1.0/users')).toContain('https://example.com is not Microsoft Graph');
  });
});

describe('source.query in jobs.yaml', () => {
  it('runs the job with the mapped filter, count and page size', () => {
    const [job] = parseConfigText(
      configWithSource(
        `      query: "myorganization/users?$filter=accountEnabled eq true&$top=10&$count=true"\n`,
      ),
      'jobs.yaml',
      {},
      '/srv/sync',
    ).jobs;
    expect(job?.source).toMatchObject({ kind: 'users', filter: 'accountEnabled eq true', count: true });
    expect(job?.limits.pageSize).toBe(10);
    expect(job?.source.kind === 'users' && job.source.query?.equivalent).toBe(
      'source.users.filter: accountEnabled eq true, source.count: true, limits.pageSize: 10',
    );
  });

  it('refuses an unmappable query at its line, naming source.query', () => {
    const message = loadProblems(configWithSource('      query: "users?$expand=manager"\n'));
    expect(message).toMatch(/jobs\.yaml:\d+:\d+ jobs\[0\]\.source\.query/);
    expect(message).toContain('$expand is not supported');
  });

  it('refuses source.query together with source.users.filter or search', () => {
    const message = loadProblems(
      configWithSource(
        '      users:\n        filter: "accountEnabled eq true"\n      query: "users?$top=10"\n',
      ),
    );
    expect(message).toContain('cannot be combined with source.users.filter or source.users.search');
  });

  it('refuses source.query together with groups', () => {
    expect(loadProblems(configWithSource('      groups: [Staff]\n      query: "users?$top=10"\n'))).toContain(
      'cannot be combined with groups',
    );
  });

  it('refuses a filtering query with delta, which cannot filter', () => {
    expect(
      loadProblems(
        configWithSource('      query: "users?$filter=accountEnabled eq true"\n      delta: true\n'),
      ),
    ).toContain('Graph delta queries can neither $filter nor $search');
  });
});

describe('source.query and the manager', () => {
  it('refuses a $search query with a manager mapping at source.query, as for source.users.search', () => {
    const message = loadProblems(
      configWithSource(
        '      query: \'users?$search="displayName:ann"&$count=true\'\n',
        '    map:\n      meta:\n        boss: manager.id\n',
      ),
    );
    expect(message).toMatch(/jobs\[0\]\.source\.query: the map reads the manager/);
  });
});
