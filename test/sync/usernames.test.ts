// A tenant of ordinary people whose UPNs WordPress refuses as usernames (an apostrophe,
// emoji, right-to-left script, over 60 characters, a guest's mangled address), through the
// real CLI into a real WordPress. With usernames: derive (the default) every one of them
// is created under a login WordPress accepts, shown in the result row, and a rerun
// writes nothing; the only error row is a real conflict, two people sharing one email.
// With usernames: strict the same people are error rows that say what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness, type WordPressRestUser } from '../support/sync-harness.ts';

type Row = Record<string, unknown>;

let serial = 0;
function person(
  userPrincipalName: string,
  overrides: Partial<FakeUser> & Record<string, unknown> = {},
): FakeUser {
  serial++;
  const local = `person${serial}`;
  return {
    id: `5e1f0000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    userPrincipalName,
    mail: `${local}@contoso.com`,
    otherMails: [],
    mailNickname: local,
    givenName: 'Pat',
    surname: `Person${serial}`,
    displayName: `Pat Person${serial}`,
    ...overrides,
  };
}

/** People WordPress would not take under their UPN. */
const refused = {
  apostrophe: person("sean.o'brien@contoso.com"),
  emoji: person('party🎉@contoso.com'),
  emojiOnly: person('🦄🌈@contoso.com'),
  arabic: person('محمد.علي@contoso.com'),
  hebrew: person('שרה.לוי@contoso.com'),
  sixtyOne: person(`${'a'.repeat(49)}@contoso.com`),
  twoHundred: person(`${'long.name.'.repeat(18)}x@contoso.onmicrosoft.com`),
  guest: person("niamh.o'neil_fabrikam.com#EXT#@contoso.onmicrosoft.com", { mail: null, userType: 'Guest' }),
  // Both read as "oneil": each gets a login of their own.
  twinA: person("o'neil@contoso.com"),
  twinB: person("oneil'@contoso.com"),
};

/** People WordPress takes as they are (accents are dropped, as WordPress does). */
const accepted = {
  accent: person('zoë.ångström@contoso.com'),
  plain: person('plain.person@contoso.com'),
};

/** A real conflict: the second of two people with one email. */
const sharedFirst = person('shared.first@contoso.com', { mail: 'shared@contoso.com' });
const sharedSecond = person('shared.second@contoso.com', { mail: 'shared@contoso.com' });

const controls = generateUsers(4, 2207);
const tenant = [
  ...Object.values(refused),
  ...Object.values(accepted),
  sharedFirst,
  sharedSecond,
  ...controls,
];

const rowsOf = (rows: Row[], user: FakeUser) => rows.filter((row) => row.objectId === user.id);
const accountsOf = (users: WordPressRestUser[], user: FakeUser) =>
  users.filter((account) => account.meta.entra_wp_sync_object_id === user.id);

describe('usernames: derive (the default)', () => {
  let harness: SyncHarness;
  let first: { code: number | null; rows: Row[] };
  let second: { code: number | null; rows: Row[] };
  let afterFirst: WordPressRestUser[];

  beforeAll(async () => {
    harness = await startSyncHarness(tenant);
    await harness.writeConfig({ guests: 'include', limits: { pageSize: 5 } });
    first = await harness.runJobs();
    afterFirst = await harness.wordpressUsers();
    second = await harness.runJobs();
  }, 240_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it.each(Object.entries(refused))(
    'creates %s under a login WordPress accepts and shows that login in the row',
    (_, user) => {
      const [row, ...more] = rowsOf(first.rows, user);
      expect(more).toEqual([]);
      expect(row).toMatchObject({ action: 'created', message: '' });
      const [account, ...twins] = accountsOf(afterFirst, user);
      expect(twins).toEqual([]);
      expect(account?.username).toBe(row?.wordpressLogin);
      expect(account?.username).not.toBe(user.userPrincipalName);
      expect(account?.username).toMatch(/^[a-z0-9 _.@-]{1,60}$/i);
    },
  );

  it('keeps what readable there is of the UPN, and "user" where nothing is', () => {
    const loginOf = (user: FakeUser) => accountsOf(afterFirst, user)[0]?.username ?? '';
    expect(loginOf(refused.apostrophe)).toMatch(/^sean\.obrien-[0-9a-z]{6}@contoso\.com$/);
    expect(loginOf(refused.emoji)).toMatch(/^party-[0-9a-z]{6}@contoso\.com$/);
    expect(loginOf(refused.emojiOnly)).toMatch(/^user-[0-9a-z]{6}@contoso\.com$/);
    expect(loginOf(refused.arabic)).toMatch(/^user-[0-9a-z]{6}@contoso\.com$/);
    expect(loginOf(refused.guest)).toMatch(/^niamh\.oneil-[0-9a-z]{6}@fabrikam\.com$/);
    expect(loginOf(refused.twoHundred)).toHaveLength(60);
    expect(loginOf(refused.twinA)).not.toBe(loginOf(refused.twinB));
  });

  it('creates people WordPress accepts under their UPN, accents dropped as WordPress does', () => {
    expect(accountsOf(afterFirst, accepted.accent)[0]?.username).toBe('zoe.angstrom@contoso.com');
    expect(accountsOf(afterFirst, accepted.plain)[0]?.username).toBe('plain.person@contoso.com');
    for (const user of controls)
      expect(accountsOf(afterFirst, user)[0]?.username).toBe(user.userPrincipalName);
  });

  it('leaves only the real conflict as an error row: the second of two people sharing an email', () => {
    const failed = first.rows.filter((row) => row.action === 'failed');
    expect(failed.map((row) => row.objectId)).toEqual([sharedSecond.id]);
    expect(failed[0]?.message).toContain(`also used by Entra user ${sharedFirst.id}`);
    expect(first.code).toBe(3);
  });

  it('changes nothing and creates nobody twice on a second run', async () => {
    expect(second.rows.filter((row) => row.objectId !== sharedSecond.id).map((row) => row.action)).toEqual(
      Array(tenant.length - 1).fill('unchanged'),
    );
    const now = await harness.wordpressUsers();
    expect(now.map((user) => [user.id, user.username])).toEqual(
      afterFirst.map((user) => [user.id, user.username]),
    );
  });
});

describe('usernames: strict', () => {
  let harness: SyncHarness;
  let run: { code: number | null; rows: Row[] };
  let users: WordPressRestUser[];

  beforeAll(async () => {
    harness = await startSyncHarness(tenant);
    await harness.writeConfig({ guests: 'include', usernames: 'strict', limits: { pageSize: 5 } });
    run = await harness.runJobs();
    users = await harness.wordpressUsers();
  }, 240_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it.each(Object.entries(refused))(
    'reports %s as an error row naming the person, the mapped username and what to do',
    (_, user) => {
      const [row, ...more] = rowsOf(run.rows, user);
      expect(more).toEqual([]);
      expect(row?.action).toBe('failed');
      const message = String(row?.message);
      expect(message).toContain(String(user.userPrincipalName));
      expect(message).toMatch(/WordPress does not allow|longer than WordPress's 60 characters/);
      expect(message).toMatch(/map user_login/);
      expect(message).toContain('set usernames: derive');
      expect(accountsOf(users, user)).toEqual([]);
    },
  );

  it('still creates the people WordPress accepts', () => {
    for (const user of [...Object.values(accepted), sharedFirst, ...controls])
      expect(rowsOf(run.rows, user).map((row) => row.action)).toEqual(['created']);
  });
});
