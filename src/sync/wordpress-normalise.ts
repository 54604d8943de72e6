// Mirrors how WordPress stores what it is sent, so that a value WordPress normalises is
// not seen as a difference on every run (SPEC §4.4: a second run plans zero writes).

/** WordPress's sanitize_text_field for first/last/display name and nickname. */
export function sanitizeTextField(value: string): string {
  let text = value.normalize('NFC');
  if (text.includes('<')) {
    // wp_pre_kses_less_than keeps a lone "<"; wp_strip_all_tags removes real tags.
    text = text
      .replace(/<(script|style)[^>]*?>.*?<\/\1>/gis, '')
      .replace(/<[^<>]*>?/g, (tag) => (/^<[a-zA-Z/!?]/.test(tag) && tag.endsWith('>') ? '' : tag));
  }
  text = text.replace(/[\r\n\t ]+/g, ' ');
  // WordPress removes percent-encoded octets (e.g. "%20") from text fields.
  let previous: string;
  do {
    previous = text;
    text = text.replace(/%[a-f0-9]{2}/gi, '');
  } while (text !== previous);
  // Control characters are not valid in WordPress text fields.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  text = text.replace(/[\u0000-\u001f\u007f]/g, '');
  return text.trim();
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
    return { ok: false, reason: `the username "${login}" is longer than WordPress's 60 characters` };
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

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isPlausibleEmail(value: string): boolean {
  return emailPattern.test(value.trim());
}
