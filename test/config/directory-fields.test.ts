// Directory fields in a job's map: the manager relationship, directory extension
// attributes and on-premises extension attributes. What the config accepts, and what the
// Graph request asks for.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { attributesOfMap, mapReadsManager, parseMapping } from '../../src/config/mapping.ts';
import { toCycleJob } from '../../src/engine/cycle-job.ts';
import { usersRequestPath } from '../../src/graph/users-query.ts';
import { fillManagerUserIds, mapEntraUser } from '../../src/rules/map-user.ts';
import { configWithJob } from './fixtures.ts';

const costCenter = 'extension_b7d8e648520f41d3b9c0fdeb91768a0a_costCenter';

function problems(text: string): string[] {
  try {
    parseConfigText(text, 'jobs.yaml', {}, '/srv/sync');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split('\n').map((line) => line.trim());
  }
  throw new Error('expected the configuration to be refused');
}

const withMeta = (meta: Record<string, string>, source = '') =>
  configWithJob(
    `${source}    map:\n      meta:\n${Object.entries(meta)
      .map(([key, value]) => `        ${key}: ${JSON.stringify(value)}\n`)
      .join('')}`,
  );

const facts = {
  selfId: 1,
  reassignTo: undefined,
  privilegedRoles: new Set<string>(),
  siteKeepsMarkers: true,
};

describe('directory fields in the map', () => {
  it('selects extension attributes by name, and expands the manager instead of selecting it', () => {
    const map = {
      meta: {
        cost_center: parseMapping(costCenter),
        badge: parseMapping('onPremisesExtensionAttributes.extensionAttribute3'),
        manager_object_id: parseMapping('manager.id'),
        manager_user_id: parseMapping('manager.wordpressUserId'),
      },
    };
    expect(attributesOfMap(map)).toEqual([costCenter, 'onPremisesExtensionAttributes']);
    expect(mapReadsManager(map)).toBe(true);
    expect(mapReadsManager({ meta: { cost_center: parseMapping(costCenter) } })).toBe(false);
  });

  it('asks Graph for the manager with one $expand per page, at most 100 users a page', () => {
    const [job] = parseConfigText(
      withMeta({ manager_object_id: 'manager.id', cost_center: costCenter }),
      'jobs.yaml',
      {},
    ).jobs;
    const [listing] = toCycleJob(job!, facts).listings;
    const query = new URL(listing!, 'https://graph.example').searchParams;
    expect(query.get('$expand')).toBe('manager($select=id)');
    expect(query.get('$top')).toBe('100');
    // Graph cannot count and expand at once; the count (progress only) is left out.
    expect(query.get('$count')).toBeNull();
    expect(query.get('$select')!.split(',')).toEqual(expect.arrayContaining([costCenter]));
    expect(query.get('$select')!.split(',')).not.toContain('manager');
    expect(usersRequestPath({ select: ['mail'], pageSize: 999, count: false })).not.toContain('$expand');
    expect(usersRequestPath({ select: ['mail'], pageSize: 50, count: false, expandManager: true })).toContain(
      '$top=50',
    );
  });

  it('refuses an extension attribute name that is not extension_<app id without dashes>_<name>, naming the key', () => {
    const lines = problems(withMeta({ cost_center: 'extension_b7d8e648-520f-41d3_costCenter' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/jobs\[0\]\.map\.meta\.cost_center: .*not a directory extension attribute/);
    expect(lines[0]).toContain('without dashes');
  });

  it('refuses on-premises extension attributes other than extensionAttribute1 to 15', () => {
    const lines = problems(withMeta({ badge: 'onPremisesExtensionAttributes.extensionAttribute16' }));
    expect(lines[0]).toMatch(/jobs\[0\]\.map\.meta\.badge: .*extensionAttribute1 to extensionAttribute15/);
  });

  it('refuses manager paths the sync cannot read, and manager.wordpressUserId outside a meta key of its own', () => {
    expect(problems(withMeta({ boss: 'manager.displayName' })).join('\n')).toMatch(
      /jobs\[0\]\.map\.meta\.boss: .*map manager\.id .* or manager\.wordpressUserId/,
    );
    expect(problems(withMeta({ boss: 'User {manager.wordpressUserId}' })).join('\n')).toMatch(
      /jobs\[0\]\.map\.meta\.boss: manager\.wordpressUserId must be the whole mapping/,
    );
    expect(
      problems(configWithJob('    map:\n      description: manager.wordpressUserId\n')).join('\n'),
    ).toMatch(/jobs\[0\]\.map\.description: manager\.wordpressUserId can only be mapped to a meta key/);
  });

  it.each([
    [
      'delta',
      '    source:\n      users: {}\n      delta: true\n',
      /source\.delta: .*delta queries do not expand it/,
    ],
    ['groups', '    source:\n      groups: [Staff]\n', /source\.groups: .*group member listings/],
    [
      '$search',
      '    source:\n      users:\n        search: \'"displayName:ann"\'\n',
      /source\.users\.search: .*\$expand in advanced queries/,
    ],
    [
      'an advanced filter',
      '    source:\n      users:\n        filter: "userType ne \'Guest\'"\n',
      /source\.users\.filter: .*\$expand in advanced queries/,
    ],
  ])('refuses the manager with %s, where Graph cannot expand it', (_, source, message) => {
    const text = configWithJob('', '').replace('    source:\n      users: {}\n', '') + source;
    const lines = problems(`${text}    map:\n      meta:\n        boss: manager.id\n`);
    expect(lines.some((line) => message.test(line))).toBe(true);
  });

  it("fills manager.wordpressUserId from the manager's account, and empties it without one", () => {
    const map = {
      user_login: parseMapping('userPrincipalName'),
      user_email: parseMapping('mail'),
      meta: {
        manager_user_id: parseMapping('manager.wordpressUserId'),
        manager_object_id: parseMapping('manager.id'),
      },
    };
    const settings = { map, guests: 'ignore' as const, defaultRole: 'subscriber' };
    const managed = mapEntraUser(
      {
        id: 'a0000000-0000-4000-8000-000000000001',
        userPrincipalName: 'ann@contoso.com',
        mail: 'ann@contoso.com',
        manager: { '@odata.type': '#microsoft.graph.user', id: 'b0000000-0000-4000-8000-000000000002' },
      },
      settings,
    );
    const unmanaged = mapEntraUser(
      {
        id: 'c0000000-0000-4000-8000-000000000003',
        userPrincipalName: 'cy@contoso.com',
        mail: 'cy@contoso.com',
      },
      settings,
    );
    if (!('login' in managed) || !('login' in unmanaged)) throw new Error('expected both to map');
    fillManagerUserIds([managed, unmanaged], (objectId) =>
      objectId === 'b0000000-0000-4000-8000-000000000002' ? 42 : undefined,
    );
    expect(managed.meta).toEqual({
      manager_user_id: '42',
      manager_object_id: 'b0000000-0000-4000-8000-000000000002',
    });
    expect(unmanaged.meta).toEqual({ manager_user_id: '', manager_object_id: '' });
  });
});
