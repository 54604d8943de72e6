// Find the one WordPress user an Entra user corresponds to, by the job's rules in order,
// or say plainly why there is no single answer (docs/design.md, "Matching"). Whether a
// match may be linked is decided apart, in adoption.ts.
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { DesiredUser } from './desired-user.ts';
import { objectIdOf, type WordPressUserIndex } from './user-index.ts';

export type MatchRule = 'objectId' | 'email' | 'username' | 'shortLogin';

export type MatchResult =
  | { kind: 'matched'; user: WordPressUser; rule: MatchRule }
  | { kind: 'none' }
  | { kind: 'conflict'; reason: string };

export function matchUser(
  desired: DesiredUser,
  index: WordPressUserIndex,
  rules: readonly MatchRule[],
): MatchResult {
  for (const rule of rules) {
    const candidates = candidatesFor(rule, desired, index);
    if (candidates.length === 0) continue;
    if (candidates.length > 1) {
      return {
        kind: 'conflict',
        reason: `${candidates.length} WordPress users match by ${rule} (${describe(candidates)}); merge or fix them in WordPress, then run again`,
      };
    }
    const user = candidates[0]!;
    const linkedTo = objectIdOf(user);
    if (linkedTo && linkedTo.toLowerCase() !== desired.objectId.toLowerCase()) {
      return {
        kind: 'conflict',
        reason: `WordPress user ${describe([user])} matches by ${rule} but is already linked to Entra user ${linkedTo}; two Entra users claim it`,
      };
    }
    return { kind: 'matched', user, rule };
  }
  return { kind: 'none' };
}

function candidatesFor(rule: MatchRule, desired: DesiredUser, index: WordPressUserIndex): WordPressUser[] {
  switch (rule) {
    case 'objectId': {
      // An account another tool linked (WPO365's aadObjectId) is found the same way.
      const marked = index.byObjectId(desired.objectId);
      return marked.length > 0 ? marked : index.byLinkedObjectId(desired.objectId);
    }
    case 'email':
      return desired.email ? index.byEmail(desired.email) : [];
    case 'username':
      return unique([...index.byLogin(desired.login), ...index.byLogin(desired.userPrincipalName)]);
    case 'shortLogin':
      return index.byShortLogin(desired.userPrincipalName);
  }
}

function unique(users: WordPressUser[]): WordPressUser[] {
  return [...new Map(users.map((user) => [user.id, user])).values()];
}

function describe(users: WordPressUser[]): string {
  return users.map((user) => `#${user.id} ${user.username}`).join(', ');
}
