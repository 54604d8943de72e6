// Malformed and awkward Entra records, all in one tenant, through the real CLI into a real
// WordPress: each one is created exactly as WordPress stores it, or becomes a result row
// that names the user, says why and what to do; the run goes on and a rerun writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdSuffix } from '../../src/rules/login-policy.ts';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import {
  type SyncHarness,
  startSyncHarness,
  testClientSecret,
  type WordPressRestUser,
} from '../support/sync-harness.ts';
import { filesUnder, leaks, tokenLeaks } from './secret-scan.ts';

type Row = Record<string, unknown>;

interface StoredUser {
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  name: string;
  nickname: string;
}

interface BadUserCase {
  /** The test name: what the admin sees for this record. */
  name: string;
  user: FakeUser;
  /** What WordPress holds after the run (exact values, as WordPress stores them)… */
  created?: StoredUser;
  /** …or the result row's message, which must match each pattern (why, and what to do). */
  failed?: RegExp[];
  skipped?: RegExp;
}

let serial = 0;
/** A realistic Entra user (displayName and mailNickname are required in Entra), then the oddity. */
function entra(overrides: Partial<FakeUser> & Record<string, unknown>): FakeUser {
  serial++;
  const local = `person${serial}`;
  return {
    id: `badc0de0-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    userPrincipalName: `${local}@contoso.com`,
    mail: `${local}@contoso.com`,
    otherMails: [],
    mailNickname: local,
    givenName: 'Pat',
    surname: `Person${serial}`,
    displayName: `Pat Person${serial}`,
    ...overrides,
  };
}

/** The WordPress user a plain record becomes, with some fields overridden. */
function stored(user: FakeUser, fields: Partial<StoredUser> = {}): StoredUser {
  return {
    username: user.userPrincipalName,
    email: String(user.mail),
    first_name: String(user.givenName),
    last_name: String(user.surname),
    name: String(user.displayName),
    nickname: String(user.mailNickname),
    ...fields,
  };
}

function plainCase(
  name: string,
  overrides: Record<string, unknown>,
  fields: Partial<StoredUser> | ((user: FakeUser) => Partial<StoredUser>),
): BadUserCase {
  const user = entra(overrides);
  return { name, user, created: stored(user, typeof fields === 'function' ? fields(user) : fields) };
}

const tooLong = `${'a'.repeat(49)}@contoso.com`;
const sixty = `${'b'.repeat(48)}@contoso.com`;
const longMail = `${'m'.repeat(89)}@contoso.com`;
const longDisplayName = 'Name '.repeat(52).slice(0, 256);
const b2cNoEmail = 'f1e2d3c4-0000-4000-8000-00000000b2c1@wb2c.onmicrosoft.com';
const b2cWithEmail = 'f1e2d3c4-0000-4000-8000-00000000b2c2@wb2c.onmicrosoft.com';
const b2cLongTenant = 'f1e2d3c4-0000-4000-8000-00000000b2c3@contosob2c.onmicrosoft.com';

const sharedMailFirst = entra({ mail: 'shared@contoso.com' });
const caseMailFirst = entra({ mail: 'Pat.Case@contoso.com' });
const accentFirst = entra({ userPrincipalName: 'josé@contoso.com', mail: 'jose.a@contoso.com' });

const cases: BadUserCase[] = [
  // Email
  plainCase('no mail and no otherMails: the UPN becomes the email', { mail: null }, (user) => ({
    email: user.userPrincipalName,
  })),
  plainCase(
    'no mail: the first non-empty otherMails address becomes the email',
    { mail: null, otherMails: ['', 'alt.address@fabrikam.com'] },
    { email: 'alt.address@fabrikam.com' },
  ),
  {
    name: 'no mail, no otherMails, no identities and no UPN: reported as having no email',
    user: entra({ userPrincipalName: '', mail: null }),
    failed: [/no email found/, /give the user a mail or otherMails value in Entra/],
  },
  {
    name: 'a mail that is not an address: reported',
    user: entra({ mail: 'Sales Team' }),
    failed: [/"Sales Team" is not an email address WordPress accepts/, /fix it in Entra/],
  },
  {
    name: 'an internationalised (non-ASCII) mail: reported, since WordPress accepts ASCII addresses only',
    user: entra({ mail: 'müller@bücher.de' }),
    failed: [/"müller@bücher.de" is not an email address WordPress accepts/, /map user_email/],
  },
  {
    name: "a mail longer than WordPress's 100 characters: reported instead of breaking the batch",
    user: entra({ mail: longMail }),
    failed: [/longer than WordPress's 100 characters/, /shorter mail in Entra/],
  },
  {
    name: 'the first of two users with the same mail: created',
    user: sharedMailFirst,
    created: stored(sharedMailFirst),
  },
  {
    name: 'the second of two users with the same mail: reported, naming the first',
    user: entra({ mail: 'shared@contoso.com' }),
    failed: [new RegExp(`also used by Entra user ${sharedMailFirst.id}`), /fix one of them in Entra/],
  },
  {
    name: 'the first of two mails differing only in case: created',
    user: caseMailFirst,
    created: stored(caseMailFirst),
  },
  {
    name: 'the second of two mails differing only in case: reported, naming the first',
    user: entra({ mail: 'pat.case@CONTOSO.com' }),
    failed: [new RegExp(`also used by Entra user ${caseMailFirst.id}`), /unique email/],
  },
  plainCase(
    'a mail with leading and trailing spaces: stored trimmed',
    { mail: '  padded.mail@contoso.com \t' },
    { email: 'padded.mail@contoso.com' },
  ),
  plainCase('an upper-case mail: stored as Entra has it', { mail: 'Upper.Case@CONTOSO.COM' }, {}),
  plainCase('a plus-addressed mail: stored with the tag', { mail: 'pat+intranet@contoso.com' }, {}),
  // Usernames
  plainCase(
    "a 61-character UPN: created under a login cut to WordPress's 60 characters, with the object ID's suffix",
    { userPrincipalName: tooLong },
    (user) => ({ username: `${'a'.repeat(41)}-${objectIdSuffix(user.id)}@contoso.com` }),
  ),
  plainCase('a UPN of exactly 60 characters: created', { userPrincipalName: sixty }, {}),
  plainCase(
    'an apostrophe in the UPN: created under a login without it, with the suffix',
    { userPrincipalName: "o'brien@contoso.com" },
    (user) => ({ username: `obrien-${objectIdSuffix(user.id)}@contoso.com` }),
  ),
  plainCase(
    'accents in the UPN: the username drops them as WordPress does',
    {
      userPrincipalName: 'zoë.ångström@contoso.com',
      givenName: 'Zoë',
      surname: 'Ångström',
      displayName: 'Zoë Ångström',
    },
    { username: 'zoe.angstrom@contoso.com' },
  ),
  {
    name: 'the first of two UPNs equal without accents: created',
    user: accentFirst,
    created: stored(accentFirst, { username: 'jose@contoso.com' }),
  },
  {
    name: 'the second of two UPNs equal without accents: reported, naming the first',
    user: entra({ userPrincipalName: 'jose@contoso.com', mail: 'jose.b@contoso.com' }),
    failed: [new RegExp(`also the username of Entra user ${accentFirst.id}`), /rename one of them in Entra/],
  },
  plainCase(
    'an emoji in the UPN: created under a login without it, with the suffix',
    { userPrincipalName: 'party🎉@contoso.com' },
    (user) => ({ username: `party-${objectIdSuffix(user.id)}@contoso.com` }),
  ),
  plainCase(
    'a control character in the UPN: created under a login without it, with the suffix',
    { userPrincipalName: 'bell\u0007@contoso.com' },
    (user) => ({ username: `bell-${objectIdSuffix(user.id)}@contoso.com` }),
  ),
  {
    name: 'no UPN at all: reported as having no username',
    user: (() => {
      const { userPrincipalName: _, ...user } = entra({});
      return user as FakeUser;
    })(),
    failed: [/no username: userPrincipalName is empty/, /map user_login to an attribute every user has/],
  },
  plainCase(
    "an upper-case UPN: the username keeps Entra's case",
    { userPrincipalName: 'Mixed.Case@Contoso.com' },
    {},
  ),
  // Names
  plainCase(
    'HTML and script in names: tags removed, the text kept',
    {
      givenName: '<script>alert(1)</script>Mallory',
      surname: '<img src=x onerror=alert(1)>Evil',
      displayName: '<b>Mallory</b> <i>Evil</i>',
    },
    { first_name: 'Mallory', last_name: 'Evil', name: 'Mallory Evil' },
  ),
  plainCase(
    'control characters in names: removed, tabs and newlines become spaces',
    { givenName: 'Bell\u0007e\u0000', surname: 'Del\u007fta', displayName: 'Tab\tbed\nName\u001b' },
    { first_name: 'Belle', last_name: 'Delta', name: 'Tab bed Name' },
  ),
  plainCase(
    'emoji in names (with skin tones and joiners): stored as they are',
    { givenName: '🦄 Uni', surname: 'Coder 👩🏽‍💻', displayName: '🦄 Uni Coder 👩🏽‍💻' },
    {},
  ),
  plainCase(
    'right-to-left names with a direction mark: stored as they are',
    { givenName: 'مريم', surname: '\u200fשלום', displayName: 'مريم \u200fשלום' },
    {},
  ),
  plainCase(
    'leading and trailing spaces in names: trimmed',
    { givenName: '  Padded  ', surname: '\tPerson ', displayName: '  Padded   Person  ' },
    { first_name: 'Padded', last_name: 'Person', name: 'Padded Person' },
  ),
  plainCase(
    "a 256-character display name (Entra's maximum): cut to WordPress's 250",
    { displayName: longDisplayName },
    { name: longDisplayName.slice(0, 250).trimEnd() },
  ),
  plainCase(
    'ampersands and angle brackets in names: stored as WordPress encodes them',
    { givenName: 'R&D', surname: 'Smith > Jones', displayName: 'Tom & Jerry <3' },
    { first_name: 'R&amp;D', last_name: 'Smith &gt; Jones', name: 'Tom &amp; Jerry &lt;3' },
  ),
  plainCase(
    'text like "a < b >" in names: stored as WordPress rewrites it, then left alone',
    { givenName: 'a < b >', surname: "<3 O'Neil", displayName: 'x < em class=x > y %20 z' },
    { first_name: 'a &lt;b&gt;', last_name: '&lt;3 O&#039;Neil', name: 'x &lt;em&gt; y z' },
  ),
  plainCase(
    'percent-encoded text in names: removed as WordPress does',
    { givenName: '100%25 Sure', surname: 'O%27Neil', displayName: '100%25 Sure O%27Neil' },
    { first_name: '100 Sure', last_name: 'ONeil', name: '100 Sure ONeil' },
  ),
  plainCase(
    'quotes and backslashes in names: stored as they are',
    { givenName: 'Eli "Q"', surname: "O'Neil\\Jr", displayName: 'Eli "Q" O\'Neil\\Jr' },
    {},
  ),
  plainCase(
    'decomposed accents (NFD) in names: stored composed (NFC)',
    { givenName: 'Zoe\u0301', displayName: 'Zoe\u0301 Person' },
    { first_name: 'Zoé', name: 'Zoé Person' },
  ),
  plainCase(
    'a display name of spaces only: given name and surname instead',
    { givenName: 'Blank', surname: 'Display', displayName: '   ' },
    { name: 'Blank Display' },
  ),
  plainCase(
    'no display name, given name or surname: WordPress shows the username',
    { givenName: null, surname: null, displayName: null },
    (user) => ({ first_name: '', last_name: '', name: user.userPrincipalName }),
  ),
  // Kinds of account
  plainCase(
    'an #EXT# guest: the home address as username and email',
    {
      userPrincipalName: 'alice_fabrikam.com#EXT#@contoso.onmicrosoft.com',
      mail: 'alice@fabrikam.com',
      userType: 'Guest',
    },
    { username: 'alice@fabrikam.com' },
  ),
  plainCase(
    "an #EXT# guest without mail: the email comes from the UPN's home address",
    { userPrincipalName: 'bob_fabrikam.com#EXT#@contoso.onmicrosoft.com', mail: null, userType: 'Guest' },
    { username: 'bob@fabrikam.com', email: 'bob@fabrikam.com' },
  ),
  plainCase(
    'an #EXT# UPN with userType Member: still a guest, with the home address',
    {
      userPrincipalName: 'carol_fabrikam.com#EXT#@contoso.onmicrosoft.com',
      mail: 'carol@fabrikam.com',
      userType: 'Member',
    },
    { username: 'carol@fabrikam.com' },
  ),
  plainCase('a null userType (synced from on-premises AD): a member', { userType: null }, {}),
  plainCase('accountEnabled null: created, since only false means disabled', { accountEnabled: null }, {}),
  {
    name: 'accountEnabled false: skipped with the reason',
    user: entra({ accountEnabled: false }),
    skipped: /the account is disabled in Entra \(accountEnabled is false\)/,
  },
  plainCase(
    'a B2C local account without an email identity: the UPN is the email',
    {
      userPrincipalName: b2cNoEmail,
      mail: null,
      identities: [
        { signInType: 'userName', issuer: 'wb2c.onmicrosoft.com', issuerAssignedId: 'kiosk42' },
        { signInType: 'userPrincipalName', issuer: 'wb2c.onmicrosoft.com', issuerAssignedId: b2cNoEmail },
      ],
    },
    { email: b2cNoEmail },
  ),
  plainCase(
    'a B2C local account with an email identity: the identity is the email',
    {
      userPrincipalName: b2cWithEmail,
      mail: null,
      identities: [
        { signInType: 'federated', issuer: 'facebook.com', issuerAssignedId: '1029384756' },
        {
          signInType: 'emailAddress',
          issuer: 'wb2c.onmicrosoft.com',
          issuerAssignedId: 'Jane.Doe@Gmail.com',
        },
      ],
    },
    { email: 'Jane.Doe@Gmail.com' },
  ),
  plainCase(
    'a B2C UPN over 60 characters: created under a login cut to 60, the domain kept',
    { userPrincipalName: b2cLongTenant, mail: null },
    (user) => ({
      username: `f1e2d3c4-0000-4000-8000-00-${objectIdSuffix(user.id)}@contosob2c.onmicrosoft.com`,
      email: b2cLongTenant,
    }),
  ),
];

/** Ordinary users around the odd ones: they must all be created whatever the others do. */
const controls = generateUsers(6, 613);

let harness: SyncHarness;
let first: { code: number | null; stdout: string; stderr: string; rows: Row[]; summary: string };
let second: { code: number | null; stdout: string; stderr: string; rows: Row[] };
let synced: WordPressRestUser[];
let countAfterFirst: number;

const rowOf = (rows: Row[], id: string) => rows.filter((row) => row.objectId === id);
const wordpressUserOf = (id: string) => synced.filter((user) => user.meta.entra_wp_sync_object_id === id);

beforeAll(async () => {
  // Interleaved so that every page of 10 mixes odd and ordinary users.
  const users = cases.flatMap((item, index) =>
    index % 7 === 0 && controls[index / 7] ? [controls[index / 7]!, item.user] : [item.user],
  );
  harness = await startSyncHarness(users);
  await harness.writeConfig({ guests: 'include', limits: { pageSize: 10 } });
  first = await harness.runJobs();
  const all = await harness.wordpressUsers();
  countAfterFirst = all.length;
  synced = all.filter((user) => user.meta.entra_wp_sync_object_id);
  second = await harness.runJobs();
}, 240_000);

afterAll(async () => {
  await harness?.stop();
});

describe('bad users: awkward Entra records into WordPress', () => {
  it.each(cases)('$name', (item) => {
    const [row, ...more] = rowOf(first.rows, item.user.id);
    expect(more).toEqual([]);
    expect(row?.userPrincipalName).toBe(item.user.userPrincipalName ?? '');
    const again = rowOf(second.rows, item.user.id);
    if (item.created) {
      expect(row?.action).toBe('created');
      expect(row?.message).toBe('');
      const [user, ...twins] = wordpressUserOf(item.user.id);
      expect(twins).toEqual([]);
      expect(user).toMatchObject({ ...item.created, roles: ['subscriber'] });
      expect(user?.meta.entra_wp_sync_jobs).toEqual(['staff']);
      expect(again.map((rerun) => rerun.action)).toEqual(['unchanged']);
      return;
    }
    expect(wordpressUserOf(item.user.id)).toEqual([]);
    if (item.skipped) {
      expect(row?.action).toBe('skipped');
      expect(row?.message).toMatch(item.skipped);
      expect(again.map((rerun) => rerun.action)).toEqual(['skipped']);
      return;
    }
    expect(row?.action).toBe('failed');
    for (const pattern of item.failed ?? []) expect(row?.message).toMatch(pattern);
    expect(again.map((rerun) => rerun.action)).toEqual(['failed']);
  });
});

describe('bad users: the run as a whole', () => {
  it('goes on past every bad record: each ordinary user is created once', () => {
    for (const user of controls) {
      expect(rowOf(first.rows, user.id).map((row) => row.action)).toEqual(['created']);
      expect(wordpressUserOf(user.id)).toHaveLength(1);
    }
  });

  it('finishes with exit code 3 (some users failed), without a crash or a WordPress error page', () => {
    expect(first.code).toBe(3);
    expect(first.stderr).not.toMatch(/TypeError|ReferenceError|\n\s+at /);
    const messages = first.rows.map((row) => String(row.message));
    expect(messages.filter((message) => /critical error|interrupted create|500/i.test(message))).toEqual([]);
    const failed = cases.filter((item) => item.failed).length;
    expect(first.summary).toContain(`${failed} users could not be synced`);
    expect(first.summary).not.toContain('<script>');
  });

  it('creates nothing twice and writes nothing on a rerun with nothing changed in Entra', async () => {
    expect(second.code).toBe(3);
    expect(
      second.rows.filter((row) => !['unchanged', 'failed', 'skipped'].includes(String(row.action))),
    ).toEqual([]);
    expect(await harness.wordpressUsers()).toHaveLength(countAfterFirst);
    const objectIds = synced.map((user) => user.meta.entra_wp_sync_object_id);
    expect(new Set(objectIds).size).toBe(objectIds.length);
  });

  it('leaves no secret or token in its logs, reports or checkpoints', async () => {
    const outputs = [
      ...[first, second].flatMap((run, index) => [
        { where: `run ${index + 1} stdout`, text: run.stdout },
        { where: `run ${index + 1} stderr`, text: run.stderr },
      ]),
      ...(await filesUnder(harness.directory)),
    ];
    expect(outputs.length).toBeGreaterThan(5);
    expect(leaks(outputs, { name: 'client secret', values: [testClientSecret] })).toEqual([]);
    const appPassword = harness.site.appPassword;
    expect(
      leaks(outputs, {
        name: 'application password',
        values: [appPassword, appPassword.replaceAll(' ', '')],
      }),
    ).toEqual([]);
    expect(tokenLeaks(outputs)).toEqual([]);
  });
});
