import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/rules/change.ts';
import {
  isNetworkLogin,
  type LoginRule,
  loginCandidates,
  objectIdSuffix,
  readablePart,
  registrationRule,
} from '../../src/rules/login-policy.ts';
import { planRemovals, type RemovalSettings } from '../../src/rules/removals.ts';
import { toWordPressLogin } from '../../src/rules/wordpress-normalise.ts';
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

const registration: LoginRule = registrationRule;
const derived = (mapped: string, id = adaId) => {
  const candidates = loginCandidates(registration, mapped, id);
  expect(candidates).toHaveLength(1);
  return candidates[0]!;
};
const suffix = objectIdSuffix(adaId);

describe('the registration login rule (a single site)', () => {
  it('keeps a login WordPress accepts as it is, accents dropped as WordPress drops them', () => {
    expect(derived('Ada.Lovelace@contoso.com')).toBe('Ada.Lovelace@contoso.com');
    expect(derived('zoë.ångström@contoso.com')).toBe('zoe.angstrom@contoso.com');
    expect(derived(`${'b'.repeat(48)}@contoso.com`)).toBe(`${'b'.repeat(48)}@contoso.com`);
  });

  it('drops an apostrophe and adds the suffix, keeping the domain', () => {
    expect(derived("sean.o'brien@contoso.com")).toBe(`sean.obrien-${suffix}@contoso.com`);
  });

  it('spells out accents in a login it must derive anyway', () => {
    expect(derived("zoë.o'hara@contoso.com")).toBe(`zoe.ohara-${suffix}@contoso.com`);
  });

  it('drops emoji, and uses "user" where nothing readable is left', () => {
    expect(derived('party🎉@contoso.com')).toBe(`party-${suffix}@contoso.com`);
    expect(derived('🦄🌈@contoso.com')).toBe(`user-${suffix}@contoso.com`);
  });

  it('uses "user" for right-to-left script (Arabic, Hebrew), with or without a domain', () => {
    expect(derived('محمد.علي@contoso.com')).toBe(`user-${suffix}@contoso.com`);
    expect(derived('שרה לוי')).toBe(`user-${suffix}`);
  });

  it("shortens a 61-character UPN to WordPress's 60, the domain kept", () => {
    const login = derived(`${'a'.repeat(49)}@contoso.com`);
    expect(login).toBe(`${'a'.repeat(41)}-${suffix}@contoso.com`);
    expect(login).toHaveLength(60);
  });

  it('shortens a 200-character UPN to 60 characters, cut at the name, not inside the domain', () => {
    const upn = `${'first.last.'.repeat(16)}@contoso.onmicrosoft.com`;
    expect(upn).toHaveLength(200);
    const login = derived(upn);
    expect(login.length).toBeLessThanOrEqual(60);
    expect(login).toMatch(new RegExp(`^first\\.last[a-z.]*-${suffix}@contoso\\.onmicrosoft\\.com$`));
  });

  it("takes a guest's home address from an #EXT# UPN ('#' is refused)", () => {
    expect(derived('john_contoso.com#EXT#@fabrikam.onmicrosoft.com')).toBe(`john-${suffix}@contoso.com`);
    expect(derived("o'brien_contoso.com#EXT#@fabrikam.onmicrosoft.com")).toBe(`obrien-${suffix}@contoso.com`);
  });

  it('gives only logins WordPress accepts, whatever the mapped value', () => {
    const mapped = [
      "sean.o'brien@contoso.com",
      'party🎉@contoso.com',
      '🦄@contoso.com',
      'محمد@contoso.com',
      `${'x'.repeat(200)}@contoso.com`,
      `${'x'.repeat(200)}`,
      `a'@${'d'.repeat(70)}.com`,
      'bell\u0007@contoso.com',
      '<b>tag</b>%41&amp;@contoso.com',
      "   o'  neil   @contoso.com",
      "'@'",
    ];
    for (const value of mapped) {
      const login = derived(value);
      // validate_username(): sanitize_user(strict) leaves it unchanged; and at most 60 characters.
      expect(toWordPressLogin(login), `${value} → ${login}`).toEqual({ ok: true, login });
    }
  });

  it('derives the same login for the same person every time (a retry, another run)', () => {
    expect(derived("sean.o'brien@contoso.com")).toBe(derived("sean.o'brien@contoso.com"));
    expect(derived("sean.o'brien@contoso.com", adaId.toUpperCase())).toBe(
      derived("sean.o'brien@contoso.com"),
    );
  });

  it('gives two people whose UPNs read the same different logins', () => {
    expect(derived("o'neil@contoso.com", adaId)).not.toBe(derived("oneil'@contoso.com", otherId));
  });
});

describe('planning creates on a single site', () => {
  const sean = { ...ada, userPrincipalName: "sean.o'brien@contoso.com", mail: 'sean@contoso.com' };
  const twinA = { ...ada, userPrincipalName: "o'neil@contoso.com", mail: 'a@contoso.com' };
  const twinB = { ...ada, id: otherId, userPrincipalName: "oneil'@contoso.com", mail: 'b@contoso.com' };

  it('creates with the derived login and reports it in the row', () => {
    const change = planFor({ entra: [sean] })[0];
    expect(loginOf(change)).toBe(`sean.obrien-${suffix}@contoso.com`);
    expect(change?.subject.wordpressLogin).toBe(`sean.obrien-${suffix}@contoso.com`);
  });

  it('creates with the mapped login where WordPress accepts it', () => {
    const change = planFor({ settings: { usernames: 'strict' } })[0];
    expect(loginOf(change)).toBe('ada@contoso.com');
    expect(loginOf(planFor({})[0])).toBe('ada@contoso.com');
  });

  it('gives two people who read the same distinct logins, whichever is read first', () => {
    const forward = planFor({ entra: [twinA, twinB] }).map(loginOf);
    const backward = planFor({ entra: [twinB, twinA] }).map(loginOf);
    expect(new Set(forward).size).toBe(2);
    expect(backward).toEqual([...forward].reverse());
  });

  it('plans the same login again on a retry', () => {
    expect(planFor({ entra: [sean] }).map(loginOf)).toEqual(planFor({ entra: [sean] }).map(loginOf));
  });

  it('reports a derived login another WordPress user holds instead of creating a second account', () => {
    const taken = storedFrom(7, {
      username: `sean.obrien-${suffix}@contoso.com`,
      email: 'someone@else.test',
      roles: [],
      meta: {},
    });
    const change = planFor({
      entra: [sean],
      wordpress: [taken],
      settings: { match: ['objectId', 'email'] },
    })[0];
    expect(change).toMatchObject({ action: 'error' });
    expect(change?.action === 'error' && change.reason).toContain('no free username');
  });

  it('never changes the login of an existing user whose mapped login WordPress refuses', () => {
    const stored = storedAda(3, { email: 'sean@contoso.com' });
    for (const usernames of ['derive', 'strict'] as const) {
      const change = planFor({ entra: [sean], wordpress: [stored], settings: { usernames } })[0];
      expect(change?.action, usernames).toBe('unchanged');
    }
  });

  it('with usernames: strict, reports the person, the mapped login and what to do', () => {
    const change = planFor({ entra: [sean], settings: { usernames: 'strict' } })[0];
    expect(change?.action).toBe('error');
    const reason = change?.action === 'error' ? change.reason : '';
    expect(reason).toContain('sean.o\'brien@contoso.com: the username "sean.o\'brien@contoso.com"');
    expect(reason).toContain("characters WordPress does not allow (')");
    expect(reason).toContain('map user_login to another attribute');
    expect(reason).toContain('set usernames: derive');
  });

  it('with usernames: strict, reports a UPN over 60 characters', () => {
    const long = { ...ada, userPrincipalName: `${'a'.repeat(49)}@contoso.com` };
    const change = planFor({ entra: [long], settings: { usernames: 'strict' } })[0];
    expect(change?.action === 'error' && change.reason).toMatch(/longer than WordPress's 60 characters/);
  });

  it('on a network follows the network rule in derive mode, and reports in strict mode', () => {
    expect(loginOf(planFor({ entra: [sean], settings: { loginRule: network } })[0])).toBe('seanobrien');
    const strict = planFor({ entra: [sean], settings: { loginRule: network, usernames: 'strict' } })[0];
    expect(strict?.action).toBe('error');
    expect(strict?.action === 'error' && strict.reason).toContain('not one a multisite network accepts');
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
