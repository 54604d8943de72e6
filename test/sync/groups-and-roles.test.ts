import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness, type WordPressRestUser } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const run = (extra: string[] = []) => harness!.runJobs(extra);

const synced = async () =>
  (await harness!.wordpressUsers()).filter((user) => user.meta.entra_wp_sync_object_id);
const rolesOf = (users: WordPressRestUser[], person: FakeUser) =>
  users.find((user) => user.meta.entra_wp_sync_object_id === person.id)?.roles;

const editorsId = '0e0e0e0e-0000-4000-8000-00000000e001';

function groupedTenant() {
  const people = generateUsers(12, 51);
  return { people };
}

describe('groups and roles', () => {
  it('syncs the transitive members of source groups once each, nested groups included', async () => {
    const { people } = groupedTenant();
    harness = await startSyncHarness(people);
    const tenant = harness.graph.tenant;
    tenant.addGroup({ id: 'g-nested', displayName: 'Interns', members: [people[0]!.id, people[1]!.id] });
    tenant.addGroup({ id: editorsId, displayName: 'Intranet Editors', members: ['g-nested', people[2]!.id] });
    tenant.addGroup({ id: 'g-authors', displayName: 'Authors', members: [people[2]!.id, people[3]!.id] });
    await harness.writeConfig({ source: { groups: [editorsId, 'Authors'] }, limits: { pageSize: 2 } });
    const result = await run();
    expect(result.code).toBe(0);
    expect(
      result.rows
        .filter((row) => row.action === 'created')
        .map((row) => row.objectId)
        .sort(),
    ).toEqual(
      people
        .slice(0, 4)
        .map((person) => person.id)
        .sort(),
    );
    expect(await synced()).toHaveLength(4);
  });

  it('gives group members their rule roles, everyone else the default, with one paged listing per rule group', async () => {
    const { people } = groupedTenant();
    harness = await startSyncHarness(people);
    const tenant = harness.graph.tenant;
    tenant.addGroup({ id: 'g-marketing', displayName: 'Marketing', members: [people[0]!.id] });
    tenant.addGroup({
      id: editorsId,
      displayName: 'Intranet Editors',
      members: ['g-marketing', people[1]!.id],
    });
    tenant.addGroup({ id: 'g-authors', displayName: 'Authors', members: [people[1]!.id, people[2]!.id] });
    await harness.writeConfig({
      roles: {
        rules: [
          { group: 'Intranet Editors', role: 'editor' },
          { group: 'Authors', role: 'author' },
        ],
      },
    });
    harness.graph.requests.length = 0;
    expect((await run()).code).toBe(0);
    const users = await synced();
    expect(rolesOf(users, people[0]!)).toEqual(['editor']);
    expect(rolesOf(users, people[1]!)?.sort()).toEqual(['author', 'editor']);
    expect(rolesOf(users, people[2]!)).toEqual(['author']);
    expect(rolesOf(users, people[5]!)).toEqual(['subscriber']);
    const memberReads = harness.graph.requests.filter((request) =>
      request.path.includes('/transitiveMembers'),
    );
    expect(memberReads).toHaveLength(2);
    expect(harness.graph.requests.some((request) => /memberOf/.test(request.path))).toBe(false);

    // Leaving the group takes the role away again (replace mode).
    tenant.setGroupMembers('g-authors', [people[1]!.id]);
    await run();
    expect(rolesOf(await synced(), people[2]!)).toEqual(['subscriber']);
  });

  it('refuses a role the site marks privileged, and a role the site does not have, before writing', async () => {
    harness = await startSyncHarness(generateUsers(3, 52));
    harness.graph.tenant.addGroup({ id: 'g-it', displayName: 'IT', members: [] });
    await runPhpOnSite(
      `add_role('site_manager', 'Site manager', ['read' => true, 'manage_options' => true]); echo 'ok';`,
    );
    await harness.writeConfig({ roles: { rules: [{ group: 'IT', role: 'site_manager' }] } });
    const privileged = await run();
    expect(privileged.code).toBe(2);
    expect(privileged.stderr).toContain('role "site_manager" can manage options or promote users');
    await harness.writeConfig({ roles: { default: 'subscirber' } });
    const typo = await run();
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('the site has no role "subscirber"');
    expect(await synced()).toHaveLength(0);
  });

  it('says which group name is ambiguous or missing', async () => {
    harness = await startSyncHarness(generateUsers(2, 53));
    harness.graph.tenant.addGroup({ id: 'g-a', displayName: 'Staff', members: [] });
    harness.graph.tenant.addGroup({ id: 'g-b', displayName: 'Staff', members: [] });
    await harness.writeConfig({ source: { groups: ['Staff'] } });
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('2 Entra groups are named "Staff" (g-a, g-b)');
  });
});

describe('guests and B2C users', () => {
  it('gives included guests their real email, a readable username and the guest role', async () => {
    const guest: FakeUser = {
      id: '6e6e6e6e-0000-4000-8000-000000000001',
      userPrincipalName: 'alice.smith_fabrikam.com#EXT#@contoso.onmicrosoft.com',
      mail: null,
      otherMails: [],
      userType: 'Guest',
      givenName: 'Alice',
      surname: 'Smith',
      displayName: 'Alice Smith (Fabrikam)',
    };
    harness = await startSyncHarness([guest, ...generateUsers(2, 54)]);
    await harness.writeConfig({ guests: 'include', roles: { guestRole: 'contributor' } });
    expect((await run()).code).toBe(0);
    const user = (await synced()).find((candidate) => candidate.meta.entra_wp_sync_object_id === guest.id);
    expect(user).toMatchObject({
      username: 'alice.smith@fabrikam.com',
      email: 'alice.smith@fabrikam.com',
      roles: ['contributor'],
      first_name: 'Alice',
      last_name: 'Smith',
    });
  });

  it('syncs B2C users by their sign-in email in a tenant without advanced queries', async () => {
    const customer: FakeUser = {
      id: 'b2cb2cb2-0000-4000-8000-000000000001',
      userPrincipalName: 'cpim_8f2b1c@contosob2c.onmicrosoft.com',
      mail: null,
      otherMails: [],
      givenName: 'Bea',
      surname: 'Customer',
      identities: [
        { signInType: 'userName', issuer: 'contosob2c.onmicrosoft.com', issuerAssignedId: 'bea' },
        {
          signInType: 'emailAddress',
          issuer: 'contosob2c.onmicrosoft.com',
          issuerAssignedId: 'Bea@Example.org',
        },
      ],
    };
    harness = await startSyncHarness([customer], { advancedQueries: false });
    await harness.writeConfig({
      source: { users: {}, count: false },
      map: { user_login: ['identities[signInType=emailAddress].issuerAssignedId', 'userPrincipalName'] },
    });
    const result = await run();
    expect(result.code).toBe(0);
    expect((await synced())[0]).toMatchObject({
      username: 'Bea@Example.org',
      email: 'Bea@Example.org',
      first_name: 'Bea',
    });
    expect(harness.graph.requests.every((request) => request.consistencyLevel === undefined)).toBe(true);
  });
});
