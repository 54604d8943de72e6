import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../src/config/mapping.ts';
import type { WordPressUser } from '../../src/model/wordpress-user.ts';
import { CycleClaims } from '../../src/rules/claims.ts';
import { mapEntraUser, type UserMappingSettings } from '../../src/rules/map-user.ts';
import { type PlanSettings, planPage } from '../../src/rules/plan.ts';
import {
  ada,
  planMapping as mapping,
  planFor,
  planInput,
  storedAda,
  storedFrom,
} from '../support/plan-fixtures.ts';

describe('planChanges', () => {
  it('plans a create with the marker for an Entra user WordPress does not have', () => {
    const changes = planFor();
    expect(changes).toHaveLength(1);
    const change = changes[0]!;
    expect(change.action).toBe('create');
    if (change.action !== 'create') return;
    expect(change.body).toMatchObject({
      username: 'ada@contoso.com',
      email: 'Ada.Lovelace@contoso.com',
      first_name: 'Ada',
      roles: ['subscriber'],
      meta: { entra_wp_sync_object_id: ada.id, entra_wp_sync_jobs: ['staff'], department: 'Engines' },
    });
    expect(change.body).not.toHaveProperty('password');
  });

  it('plans zero writes when WordPress already holds what was sent, including non-ASCII and normalised text', () => {
    const tricky = {
      ...ada,
      givenName: '  Zoë   Ångström ',
      surname: 'Þórsdóttir <b>Dr</b>',
      displayName: 'Zoë\tÅngström 100%25',
    };
    const first = planFor({ entra: [tricky] })[0]!;
    if (first.action !== 'create') throw new Error('expected a create');
    const second = planFor({ entra: [tricky], wordpress: [storedFrom(7, first.body)] });
    expect(second.map((change) => change.action)).toEqual(['unchanged']);
  });

  it('updates only the fields that differ and never sends a password', () => {
    const existing = storedAda(3, { email: 'ada.lovelace@CONTOSO.com', last_name: 'Byron' });
    const [change] = planFor({ wordpress: [existing] });
    expect(change?.action).toBe('update');
    if (change?.action !== 'update') return;
    // Email differs only in case: WordPress treats that as the same address.
    expect(change.fields).toEqual(['last_name']);
    expect(change.patch).toEqual({ last_name: 'Lovelace' });
  });

  const managingSince = new Date('2026-06-01T00:00:00Z');
  const unmarkedAda = (identity: WordPressUser['entra_wp_sync_identity']) => ({
    ...storedAda(5, { username: 'alovelace', email: 'ada.lovelace@contoso.com', meta: {} }),
    entra_wp_sync_identity: identity,
  });
  const planAgainst = (user: WordPressUser, settings: Partial<PlanSettings> = {}) =>
    planFor({ wordpress: [user], settings, managingSince });

  it('adopts an unmarked user found by email who had it before the job began, instead of creating a second one', () => {
    const [change] = planAgainst(
      unmarkedAda({ registeredAt: '2025-01-01T00:00:00Z', identityChangedAt: null, linkedObjectIds: {} }),
    );
    expect(change?.action).toBe('update');
    if (change?.action !== 'update') return;
    expect(change.user.id).toBe(5);
    expect(change.adoption).toContain('before the job began managing the site');
    expect(change.patch.meta).toEqual({ entra_wp_sync_object_id: ada.id, entra_wp_sync_jobs: ['staff'] });
  });

  it.each([
    [
      'registered after the job began',
      { registeredAt: '2026-07-01T00:00:00Z', identityChangedAt: null },
      /registered on/,
    ],
    [
      'whose email changed after the job began',
      { registeredAt: '2025-01-01T00:00:00Z', identityChangedAt: '2026-07-01T00:00:00Z' },
      /changed on/,
    ],
    ['on a site that cannot show its history', undefined, /no companion plugin/],
  ])('holds an unmarked user found by email %s, and writes nothing', (_case, identity, reason) => {
    const [change] = planAgainst(unmarkedAda(identity ? { ...identity, linkedObjectIds: {} } : undefined));
    expect(change?.action).toBe('held');
    if (change?.action !== 'held') return;
    expect(change.reason).toMatch(reason);
    expect(change.reason).toContain('--allow-adoptions');
  });

  it('adopts a user another tool linked to this object ID, and holds one linked to someone else', () => {
    const linked = (id: string) =>
      unmarkedAda({
        registeredAt: '2026-07-01T00:00:00Z',
        identityChangedAt: null,
        linkedObjectIds: { aadObjectId: id },
      });
    expect(planAgainst(linked(ada.id))[0]).toMatchObject({
      action: 'update',
      adoption: expect.stringContaining('aadObjectId'),
    });
    expect(planAgainst(linked('22222222-2222-4222-8222-222222222222'))[0]).toMatchObject({
      action: 'held',
      reason: expect.stringContaining('another Entra object ID'),
    });
  });

  it('adopts a held user only when a person approved that exact pair', () => {
    const user = unmarkedAda({
      registeredAt: '2026-07-01T00:00:00Z',
      identityChangedAt: null,
      linkedObjectIds: {},
    });
    const approvedFor = (wordpressId: number) =>
      planFor({
        wordpress: [user],
        managingSince,
        approvedAdoptions: { pairs: new Map([[ada.id, wordpressId]]), by: 'pat' },
      })[0];
    expect(approvedFor(5)).toMatchObject({
      action: 'update',
      adoption: expect.stringContaining('approved by pat'),
    });
    expect(approvedFor(6)).toMatchObject({ action: 'held' });
  });

  it('does not restore a privileged role remembered on a disabled account', () => {
    const disabled = {
      ...unmarkedAda(undefined),
      roles: [],
      meta: {
        entra_wp_sync_object_id: ada.id,
        entra_wp_sync_jobs: ['staff'],
        entra_wp_sync_status: 'disabled',
        entra_wp_sync_restore_roles: ['administrator', 'author'],
      },
    };
    const [change] = planAgainst(disabled, { rolesMode: 'add' });
    expect(change?.action).toBe('restore');
    if (change?.action !== 'restore') return;
    expect(change.patch.roles).toEqual(['author', 'subscriber']);
  });

  it('does not plan updates for meta keys the site does not expose over REST', () => {
    const existing = storedAda(6, {
      // `department` is not registered on the site, so REST leaves it out.
      meta: { entra_wp_sync_object_id: ada.id, entra_wp_sync_jobs: ['staff'] },
    });
    const [change] = planFor({ wordpress: [existing] });
    expect(change?.action).toBe('unchanged');
  });

  it('reports two WordPress users matching one Entra user as an error, not a guess', () => {
    const a = storedFrom(8, { username: 'ada1', email: 'Ada.Lovelace@contoso.com', roles: [], meta: {} });
    const b = storedFrom(9, { username: 'ada2', email: 'ada.lovelace@contoso.com', roles: [], meta: {} });
    const [change] = planFor({ wordpress: [a, b] });
    expect(change?.action).toBe('error');
    if (change?.action !== 'error') return;
    expect(change.reason).toContain('2 WordPress users match by email');
  });

  it('refuses the second of two Entra users sharing an email, even across pages, without changing the claims it is given', () => {
    const claims = new CycleClaims();
    const twin = {
      ...ada,
      id: '22222222-2222-4222-8222-222222222222',
      userPrincipalName: 'ada2@contoso.com',
      mail: 'ADA.lovelace@contoso.com',
    };
    const firstPage = planPage(planInput({ claims }));
    expect(claims.emails.size).toBe(0);
    claims.add(firstPage.claimed);
    const [second] = planFor({ entra: [twin], claims });
    expect(firstPage.changes[0]?.action).toBe('create');
    expect(second?.action).toBe('error');
    if (second?.action !== 'error') return;
    expect(second.reason).toContain(ada.id);
  });

  it('does not change the roles of an administrator unless the job may', () => {
    const admin = storedAda(1, { roles: ['administrator'] });
    const plan = (manageAdministrators: boolean) =>
      planFor({ wordpress: [admin], settings: { manageAdministrators } })[0];
    expect(plan(false)?.action).toBe('unchanged');
    const allowed = plan(true);
    expect(allowed?.action).toBe('update');
    if (allowed?.action === 'update') expect(allowed.patch.roles).toEqual(['subscriber']);
  });

  it('keeps roles the mapping does not give in add mode', () => {
    const editor = storedAda(4, { roles: ['editor'] });
    const [change] = planFor({ wordpress: [editor], settings: { rolesMode: 'add' } });
    expect(change?.action).toBe('update');
    if (change?.action === 'update') expect(change.patch.roles).toEqual(['editor', 'subscriber']);
  });
});

describe('mapEntraUser', () => {
  it('explains a user without any email instead of failing the run', () => {
    const result = mapEntraUser({ id: 'x', userPrincipalName: '' }, mapping);
    expect(result).toMatchObject({ outcome: 'error' });
    expect('reason' in result && result.reason).toContain('no email found');
  });

  it('turns accents into a username WordPress accepts and leaves one it refuses as mapped', () => {
    const accented = mapEntraUser({ ...ada, userPrincipalName: 'jörg@contoso.com' }, mapping);
    expect('login' in accented && accented.login).toBe('jorg@contoso.com');
    // Only a new user needs a login: the planner derives one or reports it (usernames).
    const refused = mapEntraUser({ ...ada, userPrincipalName: 'ada+test/x@contoso.com' }, mapping);
    expect('login' in refused && refused.login).toBe('ada+test/x@contoso.com');
  });

  it('reports a username WordPress refuses with the reason under usernames: strict', () => {
    const long = { ...ada, userPrincipalName: `${'a'.repeat(61)}@contoso.com` };
    const [tooLong] = planFor({ entra: [long], settings: { usernames: 'strict' } });
    expect(tooLong?.action === 'error' && tooLong.reason).toContain('longer than WordPress');
    const [refused] = planFor({
      entra: [{ ...ada, userPrincipalName: 'ada+test/x@contoso.com' }],
      settings: { usernames: 'strict' },
    });
    expect(refused?.action === 'error' && refused.reason).toContain(
      'characters WordPress does not allow (+ /)',
    );
  });

  it('skips guests when the job ignores them', () => {
    const result = mapEntraUser(
      { ...ada, userType: 'Guest', userPrincipalName: 'ada_fabrikam.com#EXT#@contoso.onmicrosoft.com' },
      mapping,
    );
    expect(result).toMatchObject({ outcome: 'skipped' });
  });

  it('falls back from mail to otherMails, B2C sign-in identities, then the UPN', () => {
    const fallback: UserMappingSettings = {
      ...mapping,
      map: {
        ...mapping.map,
        user_email: parseMapping([
          'mail',
          'otherMails',
          'identities[signInType=emailAddress].issuerAssignedId',
          'userPrincipalName',
        ]),
      },
    };
    const email = (user: Record<string, unknown>) => {
      const result = mapEntraUser({ id: 'x', userPrincipalName: 'upn@contoso.com', ...user }, fallback);
      return 'login' in result ? result.email : result.reason;
    };
    expect(email({ mail: 'mail@contoso.com', otherMails: ['other@contoso.com'] })).toBe('mail@contoso.com');
    expect(email({ mail: null, otherMails: ['', 'other@contoso.com'] })).toBe('other@contoso.com');
    expect(
      email({
        mail: null,
        identities: [
          { signInType: 'userName', issuerAssignedId: 'bea' },
          { signInType: 'emailAddress', issuerAssignedId: 'bea@example.org' },
        ],
      }),
    ).toBe('bea@example.org');
    expect(email({ mail: null })).toBe('upn@contoso.com');
  });
});
