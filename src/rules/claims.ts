// What the pages of one cycle have claimed so far, so that two Entra users cannot claim
// one WordPress user, one email or one new username between pages. The planner only reads
// these; it returns what a page claimed and the engine adds it here once the page is planned.

export interface Claims {
  /** WordPress user id → the Entra object ID it was matched to. */
  readonly wordpressUsers: ReadonlyMap<number, string>;
  /** Normalised email → the Entra object ID using it. */
  readonly emails: ReadonlyMap<string, string>;
  /** Normalised username planned for creation → its Entra object ID (josé@ and jose@ both become jose@). */
  readonly logins: ReadonlyMap<string, string>;
}

/** The cycle's claims, owned by the engine. */
export class CycleClaims implements Claims {
  readonly wordpressUsers = new Map<number, string>();
  readonly emails = new Map<string, string>();
  readonly logins = new Map<string, string>();

  add(made: Claims): void {
    for (const [id, owner] of made.wordpressUsers) this.wordpressUsers.set(id, owner);
    for (const [email, owner] of made.emails) this.emails.set(email, owner);
    for (const [login, owner] of made.logins) this.logins.set(login, owner);
  }
}

const noClaims: Claims = { wordpressUsers: new Map(), emails: new Map(), logins: new Map() };

/**
 * One page's claims on top of the cycle's, without copying them: a 100,000-user cycle
 * would otherwise copy every earlier claim on every page.
 */
export class PageClaims {
  readonly made = new CycleClaims();
  readonly #before: Claims;

  constructor(before: Claims = noClaims) {
    this.#before = before;
  }

  ownerOfUser(id: number): string | undefined {
    return this.made.wordpressUsers.get(id) ?? this.#before.wordpressUsers.get(id);
  }

  ownerOfEmail(email: string): string | undefined {
    return this.made.emails.get(email) ?? this.#before.emails.get(email);
  }

  ownerOfLogin(login: string): string | undefined {
    return this.made.logins.get(login) ?? this.#before.logins.get(login);
  }
}
