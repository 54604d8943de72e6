// Mirrors how WordPress stores what it is sent, so that a value WordPress normalises is
// not seen as a difference on every run (a second run with nothing changed plans zero writes).

/** WordPress's sanitize_text_field for first/last/display name and nickname. */
export function sanitizeTextField(value: string): string {
  let text = value.normalize('NFC');
  if (text.includes('<')) {
    // wp_pre_kses_less_than: a "<" with no ">" before the next "<" is escaped, not a tag.
    text = text.replace(/<[^>]*?(?:(?=<)|>|$)/g, (part) => (part.includes('>') ? part : escapeHtml(part)));
    // wp_strip_all_tags: script and style with their content, then PHP's strip_tags,
    // for which "<" followed by white space is text, not a tag.
    text = text.replace(/<(script|style)[^>]*?>.*?<\/\1>/gis, '').replace(/<(?![\t\n\v\f\r ])[^>]*>/g, '');
    text = text.replaceAll('<\n', '&lt;\n');
  }
  text = text.replace(/[\r\n\t ]+/g, ' ').trim();
  // WordPress removes percent-encoded octets (e.g. "%20") from text fields.
  let previous: string;
  const before = text;
  do {
    previous = text;
    text = text.replace(/%[a-f0-9]{2}/gi, '');
  } while (text !== previous);
  if (text !== before) text = text.replace(/ +/g, ' ').trim();
  // Control characters are not valid in WordPress text fields.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  text = text.replace(/[\u0000-\u001f\u007f]/g, '');
  return text.trim();
}

/** esc_html(): special characters as entities, existing entities left alone. */
function escapeHtml(text: string): string {
  return encodeNameEntities(text).replaceAll('"', '&quot;').replaceAll("'", '&#039;');
}

/**
 * Tags wp_filter_kses allows in name fields ($allowedtags) that take no attributes; a
 * tag left by sanitize_text_field ("< b >") is stored as this tag, written plainly.
 */
const ksesPlainTags = new Set(['b', 'cite', 'code', 'em', 'i', 's', 'strike', 'strong']);
const ksesTagsWithAttributes = new Set(['a', 'abbr', 'acronym', 'blockquote', 'del', 'q']);

/** wp_filter_kses for what sanitize_text_field leaves: tags that begin "< ". */
function filterKses(text: string): string {
  return text.replace(/<[^>]*>/g, (tag) => {
    const parts = /^<\s*(\/\s*)?([a-zA-Z0-9-]+)([^>]*)>$/.exec(tag);
    if (!parts) return '';
    const [, slash, element = '', attributes = ''] = parts;
    const name = element.toLowerCase();
    if (slash) return ksesPlainTags.has(name) || ksesTagsWithAttributes.has(name) ? `</${element}>` : '';
    if (ksesPlainTags.has(name)) return `<${element}${/\s*\/\s*$/.test(attributes) ? ' /' : ''}>`;
    // Attributes are checked one by one against kses's lists; that is not mirrored here.
    return ksesTagsWithAttributes.has(name) ? tag : '';
  });
}

/**
 * What WordPress stores for a name field (first/last/display name, nickname): the
 * pre_user_* filters run wp_filter_kses and _wp_specialchars after sanitize_text_field,
 * so "R&D" is stored as "R&amp;D" and a lone ">" as "&gt;". Comparing with the stored
 * form keeps such names from being "changed" on every run.
 */
export function storedNameField(value: string, maxLength = Number.POSITIVE_INFINITY): string {
  const text = filterKses(sanitizeTextField(value));
  let stored = encodeNameEntities(text);
  if ([...stored].length <= maxLength) return stored;
  // The display_name column holds 250 characters; WordPress 6.1 fails the whole request
  // (a PHP fatal error) for a longer one, so cut it to what fits once encoded.
  const characters = [...text];
  for (let keep = Math.min(characters.length, maxLength); keep > 0; keep--) {
    stored = encodeNameEntities(characters.slice(0, keep).join('').trimEnd());
    if ([...stored].length <= maxLength) return stored;
  }
  return '';
}

/** WordPress's users.display_name column: varchar(250). */
export const displayNameMaxLength = 250;

function encodeNameEntities(text: string): string {
  return text
    .replace(/&(?!(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** WordPress compares emails without regard to case; so do we. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

export function loginKey(login: string): string {
  return login.trim().toLowerCase();
}

const allowedLoginCharacters = /^[a-z0-9 _.\-@]+$/i;

export type LoginCheck = { ok: true; login: string } | { ok: false; reason: string };

/**
 * WordPress's validate_username(): sanitize_user(strict) must leave the name unchanged.
 * Accents are removed first (as sanitize_user does), so "jörg" becomes "jorg".
 */
export function toWordPressLogin(candidate: string): LoginCheck {
  const login = removeAccents(candidate.trim()).replace(/\s+/g, ' ');
  if (login === '') return { ok: false, reason: 'the username would be empty' };
  if (login.length > 60) {
    return {
      ok: false,
      reason: `the username "${login}" is longer than WordPress's 60 characters; map user_login to a shorter attribute (for B2C users, for example identities[signInType=emailAddress].issuerAssignedId)`,
    };
  }
  if (!allowedLoginCharacters.test(login)) {
    const bad = [...new Set(login.replace(/[a-z0-9 _.\-@]/gi, ''))].join(' ');
    return {
      ok: false,
      reason: `the username "${login}" contains characters WordPress does not allow (${bad}); map user_login to another attribute`,
    };
  }
  return { ok: true, login };
}

export function removeAccents(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/æ/g, 'ae')
    .replace(/Æ/g, 'AE')
    .replace(/ø/g, 'o')
    .replace(/Ø/g, 'O')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .replace(/þ/g, 'th')
    .replace(/Þ/g, 'TH');
}

/** WordPress's users.user_email column: varchar(100). */
export const emailMaxLength = 100;

/**
 * WordPress's is_email(): ASCII only, a local part of letters, digits and
 * !#$%&'*+/=?^_`{|}~.-, and a domain of at least two labels of letters, digits and "-".
 * An address it refuses would be turned away by the REST API with a vaguer message.
 */
export function isPlausibleEmail(value: string): boolean {
  const email = value.trim();
  const at = email.indexOf('@', 1);
  if (email.length < 6 || at < 0) return false;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!/^[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local)) return false;
  if (/\.{2,}/.test(domain) || domain.startsWith('.') || domain.endsWith('.')) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((label) => /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(label));
}
