import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/rules/change.ts';
import {
  isNetworkLogin,
  type LoginRule,
  loginCandidates,
  objectIdSuffix,
  readablePart,
} from '../../src/rules/login-policy.ts';
import { planRemovals, type RemovalSettings } from '../../src/rules/removals.ts';
import { ada, planFor, storedAda, storedFrom } from '../support/plan-fixtures.ts';

const network: LoginRule = { kind: 'network', reservedLogins: [] };
const adaId = ada.id;
const otherId = '22222222-2222-4222-8222-222222222222';

const loginOf = (change: Change | undefined): string | undefined =>
  change?.action === 'create' ? change.body.username : undefined;

describe('the network login rule', () => {
  it('keeps the letters and digits of the part before "@", accents spelled out, lower case', () => {
    expect(readablePart('José.Müller-Łukasz@contoso.com')).toBe('josemullerlukasz');
    expect(readablePart('Søren.Straße_2@contoso.com')).toBe('sorenstrasse2');
    expect(loginCandidates(network, 'Ada.Lovelace@contoso.com', adaId)[0]).toBe('adalovelace');
  });

  it('gives only logins a network accepts: a-z and 0-9, 4 to 60 characters, not only digits, not reserved', () => {
    const mapped = [
      'ada@contoso.com',
      'al@contoso.com',
      '1234@contoso.com',
      '__@contoso.com',
      'admin@contoso.com',
      `${'x'.repeat(80)}@contoso.com`,
      '日本語@contoso.com',
    ];
    for (const login of mapped) {
      const candidates = loginCandidates(network, login, adaId);
      expect(candidates.length, login).toBeGreaterThan(0);
      for (const candidate of candidates)
        expect(isNetworkLogin(candidate), `${login} → ${candidate}`).toBe(true);
    }
  });

  it('derives the same logins for the same person every time, and a different suffix for another person', () => {
    expect(loginCandidates(network, 'ada@contoso.com', adaId)).toEqual(
      loginCandidates(network, 'ADA@contoso.com', adaId.toUpperCase()),
    );
    expect(objectIdSuffix(adaId)).toMatch(/^[0-9a-z]{6}$/);
    expect(objectIdSuffix(adaId)).not.toBe(objectIdSuffix(otherId));
    const [, suffixed] = loginCandidates(network, 'ada.lovelace@contoso.com', adaId);
    expect(suffixed).toBe(`adalovelace${objectIdSuffix(adaId)}`);
  });

  it('refuses the names the network reserves', () => {
    const rule: LoginRule = { kind: 'network', reservedLogins: ['adalovelace'] };
    expect(loginCandidates(rule, 'ada.lovelace@contoso.com', adaId)).toEqual([
      `adalovelace${objectIdSuffix(adaId)}`,
    ]);
  });
});

describe('planning creates on a network', () => {
  const adaLovelace = { ...ada, userPrincipalName: 'Ada.Lovelace@contoso.com' };

  it('creates with the derived login and reports it', () => {
    const change = planFor({ settings: { loginRule: network }, entra: [adaLovelace] })[0];
    expect(loginOf(change)).toBe('adalovelace');
    expect(change?.subject.wordpressLogin).toBe('adalovelace');
  });

  it('lengthens a login under four characters with the suffix', () => {
    expect(loginOf(planFor({ settings: { loginRule: network } })[0])).toBe(`ada${objectIdSuffix(adaId)}`);
  });

  it('takes the suffixed login when another network user has the readable one', () => {
    const taken = storedFrom(7, {
      username: 'adalovelace',
      email: 'someone@else.test',
      roles: [],
      meta: {},
    });
    const change = planFor({ settings: { loginRule: network }, entra: [adaLovelace], wordpress: [taken] })[0];
    expect(loginOf(change)).toBe(`adalovelace${objectIdSuffix(adaId)}`);
  });

  it('gives two people of one cycle who derive the same login different logins', () => {
    const twin = {
      ...ada,
      id: otherId,
      mail: 'ada.lovelace@fabrikam.com',
      userPrincipalName: 'ada.lovelace@fabrikam.com',
    };
    const changes = planFor({ settings: { loginRule: network }, entra: [adaLovelace, twin] });
    expect(changes.map(loginOf)).toEqual(['adalovelace', `adalovelace${objectIdSuffix(otherId)}`]);
  });

  it('never changes the login of an existing user', () => {
    const change = planFor({ settings: { loginRule: network }, wordpress: [storedAda(3)] })[0];
    expect(change?.action).toBe('unchanged');
  });

  it('adds a network user who is not a member of this site, with the mapped roles', () => {
    const member = { ...storedAda(3, { roles: [] }), member: false };
    const change = planFor({ settings: { loginRule: network }, wordpress: [member] })[0];
    expect(change).toMatchObject({ action: 'update', joinSite: true, patch: { roles: ['subscriber'] } });
  });

  it('never changes a super admin, and says so', () => {
    const change = planFor({
      settings: { loginRule: network },
      wordpress: [{ ...storedAda(1), superAdmin: true }],
    })[0];
    expect(change).toMatchObject({ action: 'skipped' });
    expect(change?.action === 'skipped' && change.reason).toContain('super admin');
  });
});

describe('removals on a network', () => {
  const settings: RemovalSettings = {
    jobName: 'staff',
    mode: 'hard',
    scope: 'managed',
    protect: [],
    manageAdministrators: true,
    selfId: 1,
    reassignTo: 1,
    maxDeletes: { kind: 'count', value: 10 },
  };

  it('pass a super admin by, even one the job manages', () => {
    const leaver = storedAda(5);
    const plan = planRemovals([leaver, { ...storedAda(6), superAdmin: true }], new Set(), settings);
    expect(plan.changes.map((change) => change.user.id)).toEqual([5]);
  });
});
