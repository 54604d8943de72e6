// Small rules the schema applies at load time, kept apart so they can be tested and reused.

/**
 * A role the sync must not hand out unless `roles.allowPrivileged: true`. Core WordPress has
 * one such role, administrator; any role whose name mentions "admin" is treated the same way because
 * plugins name their manager roles that way. Custom roles with dangerous capabilities are checked on
 * the site at run time, not here.
 */
export function isPrivilegedRole(role: string): boolean {
  return role.toLowerCase().includes('admin');
}

/**
 * Why a user meta key may not be written by a mapping, or undefined when it may. WordPress keeps
 * roles and levels in `{prefix}capabilities` / `{prefix}user_level` (the prefix varies per site),
 * sessions in `session_tokens`, and treats `_`-prefixed keys as protected; the tool's own markers are
 * its own business.
 */
export function reservedMetaKeyReason(key: string): string | undefined {
  const lower = key.toLowerCase();
  if (lower.startsWith('_')) return 'keys starting with "_" are protected meta in WordPress';
  if (lower.endsWith('capabilities')) return "it would overwrite the user's roles and capabilities";
  if (lower.endsWith('user_level')) return "it would overwrite the user's level";
  if (lower === 'session_tokens') return "it holds the user's login sessions";
  if (lower.startsWith('entra_wp_sync_'))
    return 'keys starting with "entra_wp_sync_" hold the sync\'s own markers';
  return undefined;
}

const durationPattern = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/i;
const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s" | "30m" | "2h" | "1d" | "45" | 45 → seconds; undefined when not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  const match = durationPattern.exec(value);
  if (!match) return undefined;
  const seconds = Number(match[1]) * unitSeconds[(match[2] ?? 's').toLowerCase()]!;
  return seconds > 0 ? Math.round(seconds) : undefined;
}

/** The closest candidate to `given` when it is close enough to be a likely typo. */
export function closestMatch(given: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(given.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = given.length <= 3 ? 1 : Math.max(2, Math.floor(given.length / 3));
  return best !== undefined && bestDistance <= tolerance ? best : undefined;
}

/** Edits (insert, delete, replace, swap two neighbours) that turn a into b. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}
