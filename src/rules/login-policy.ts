// Which login a new WordPress user gets. A job maps a login value (normally the UPN); a
// site may not accept it as it is. On a multisite network WordPress accepts only
// lowercase letters and digits (wpmu_validate_user_signup), so a UPN can never be a login
// there and the login is derived from it. A single site accepts what validate_username()
// leaves unchanged, up to 60 characters: most UPNs, but not an apostrophe, an emoji,
// right-to-left script or a long guest or B2C UPN.
//
// A derived login must be stable: the same person gets the same login on a retry or
// after a crash. It is derived from the person's data alone, never from a counter, which
// would depend on the order people are read in. On a network the readable part of the
// mapped login comes first and, when that is taken, too short or too long, the readable
// part with a short suffix from a hash of the Entra object ID. On a single site only the
// few logins WordPress refuses are derived, and always with the suffix: the readable part
// alone ("sean.obrien@contoso.com" for "sean.o'brien@contoso.com") may be another
// person's UPN, who would then find their login taken.
import { readableGuestName } from './map-user.ts';
import { toWordPressLogin } from './wordpress-normalise.ts';

/** The network rule; `reservedLogins` are the network's illegal names (never given). */
export interface NetworkLoginRule {
  kind: 'network';
  reservedLogins: readonly string[];
}

/** A single site's rule: a login WordPress accepts is kept as mapped, others are derived. */
export interface RegistrationLoginRule {
  kind: 'registration';
}

/** How new users' logins are chosen; undefined in the planner means the registration rule. */
export type LoginRule = NetworkLoginRule | RegistrationLoginRule;

export const registrationRule: RegistrationLoginRule = { kind: 'registration' };

/** WordPress's bounds for a network login. */
export const networkLoginMinLength = 4;
export const networkLoginMaxLength = 60;
/** wp_insert_user() refuses a longer login (user_login_too_long). */
export const loginMaxLength = 60;
const suffixLength = 6;

/** Names core reserves when the network's illegal_names option is empty. */
export const defaultReservedLogins = [
  'www',
  'web',
  'root',
  'admin',
  'main',
  'invite',
  'administrator',
  'files',
];

/**
 * The logins the rule would give this person, best first: each is acceptable to the
 * site, and the planner takes the first that nobody else has. Always at least one.
 */
export function loginCandidates(rule: LoginRule, mappedLogin: string, objectId: string): string[] {
  if (rule.kind === 'network') return networkLoginCandidates(mappedLogin, objectId, rule.reservedLogins);
  const asMapped = toWordPressLogin(mappedLogin);
  return [asMapped.ok ? asMapped.login : derivedLogin(mappedLogin, objectId)];
}

/**
 * Why the site would refuse `login` for a new user as it is (existing logins are never
 * changed), with what to map instead; undefined where it accepts it.
 */
export function loginRefusal(rule: LoginRule, login: string): string | undefined {
  if (rule.kind === 'registration') {
    const check = toWordPressLogin(login);
    return check.ok ? undefined : check.reason;
  }
  if (isNetworkLogin(login, rule.reservedLogins)) return undefined;
  return `the username "${login}" is not one a multisite network accepts (${networkLoginMinLength} to ${networkLoginMaxLength} lower-case letters and digits, not digits only, not a reserved name); map user_login to an attribute that is`;
}

export function isNetworkLogin(login: string, reserved: readonly string[] = defaultReservedLogins): boolean {
  return (
    /^[a-z0-9]+$/.test(login) &&
    login.length >= networkLoginMinLength &&
    login.length <= networkLoginMaxLength &&
    !/^[0-9]+$/.test(login) &&
    !isReserved(login, reserved)
  );
}

function networkLoginCandidates(
  mappedLogin: string,
  objectId: string,
  reserved: readonly string[],
): string[] {
  const readable = readablePart(mappedLogin);
  const suffix = objectIdSuffix(objectId);
  const withSuffix = (readable.slice(0, networkLoginMaxLength - suffix.length) || 'user') + suffix;
  // A readable part of digits only stays digits with a digit-only suffix.
  const suffixed = /^[0-9]+$/.test(withSuffix) ? `u${withSuffix.slice(1)}` : withSuffix;
  const candidates = isNetworkLogin(readable, reserved) ? [readable, suffixed] : [suffixed];
  return [...new Set(candidates)];
}

/**
 * A login WordPress accepts for a mapped one it refuses: what its registration rule keeps
 * (accents spelled out, then only a-z 0-9 space _ . - @, white space collapsed) with "-"
 * and the object ID's suffix before the "@domain", shortened to 60 characters. Where
 * nothing readable is left (emoji, right-to-left script) the name part is "user".
 */
export function derivedLogin(mappedLogin: string, objectId: string): string {
  const value = readableGuestName(mappedLogin.trim());
  const at = value.lastIndexOf('@');
  const name = strictLogin(at < 0 ? value : value.slice(0, at));
  const domain = at < 0 ? '' : strictLogin(value.slice(at + 1)).replace(/[\s@]/g, '');
  const readable = /[a-z0-9]/i.test(name) ? name : 'user';
  const tail = `-${objectIdSuffix(objectId)}`;
  // The domain says which tenant the person is from; it is dropped only where it would
  // leave less than eight characters of the name.
  const keepDomain =
    domain !== '' &&
    /[a-z0-9]/i.test(domain) &&
    Math.min(readable.length, 8) + tail.length + domain.length + 1 <= loginMaxLength;
  const room = loginMaxLength - tail.length - (keepDomain ? domain.length + 1 : 0);
  const head = readable.slice(0, room).replace(/[\s._@-]+$/, '') || 'user';
  return `${head}${tail}${keepDomain ? `@${domain}` : ''}`;
}

/** sanitize_user($login, true) after remove_accents(): what WordPress itself would keep. */
function strictLogin(value: string): string {
  return transliterate(value.replace(/<[^>]*>/g, ''))
    .replace(/%[a-f0-9]{2}/gi, '')
    .replace(/&.+?;/g, '')
    .replace(/[^a-z0-9 _.\-@]/gi, '')
    .trim()
    .replace(/\s+/g, ' ');
}

/**
 * The mapped login's letters and digits: the part before "@" of an address (the domain
 * says nothing of the person), accents transliterated, everything else dropped.
 */
export function readablePart(mappedLogin: string): string {
  const local = mappedLogin.includes('@') ? mappedLogin.slice(0, mappedLogin.lastIndexOf('@')) : mappedLogin;
  return transliterate(local)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** Letters WordPress's remove_accents() spells out that have no decomposition of their own. */
const spelledOut: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'TH',
  ł: 'l',
  Ł: 'L',
  ħ: 'h',
  Ħ: 'H',
  ı: 'i',
};

function transliterate(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\p{ASCII}]/gu, (char) => spelledOut[char] ?? '');
}

function isReserved(login: string, reserved: readonly string[]): boolean {
  const names = reserved.length > 0 ? reserved : defaultReservedLogins;
  return names.some((name) => name.toLowerCase() === login);
}

/** Six base-36 characters from the object ID (53-bit cyrb53 hash): the same for the same person. */
export function objectIdSuffix(objectId: string): string {
  const text = objectId.toLowerCase();
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return hash.toString(36).padStart(suffixLength, '0').slice(-suffixLength);
}
