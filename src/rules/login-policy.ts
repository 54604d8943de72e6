// Which login a new WordPress user gets. A job maps a login value (normally the UPN); a
// site may not accept it as it is. On a multisite network WordPress accepts only
// lowercase letters and digits (wpmu_validate_user_signup), so a UPN can never be a login
// there and the login is derived from it. The rule is a value of its own so that
// another one (WordPress's single-site registration rule) can stand beside it.
//
// A derived login must be stable: the same person gets the same login on a retry or
// after a crash. It is derived from the person's data alone, the readable part of the
// mapped login first and, when that is taken, too short or too long, the readable part
// with a short suffix from a hash of the Entra object ID; never from a counter, which
// would depend on the order people are read in.

/** The network rule; `reservedLogins` are the network's illegal names (never given). */
export interface NetworkLoginRule {
  kind: 'network';
  reservedLogins: readonly string[];
}

/** How new users' logins are chosen; undefined in the planner means "as mapped". */
export type LoginRule = NetworkLoginRule;

/** WordPress's bounds for a network login. */
export const networkLoginMinLength = 4;
export const networkLoginMaxLength = 60;
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
  return networkLoginCandidates(mappedLogin, objectId, rule.reservedLogins);
}

/** Whether `login` is one the rule accepts for a new user (existing logins are never changed). */
export function acceptsLogin(rule: LoginRule, login: string): boolean {
  return isNetworkLogin(login, rule.reservedLogins);
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
