// What a person approved, bound to what they reviewed. A held run keeps its list (the
// removals and adoptions it held back) with the job's state; an approval names that list
// (optionally pinned by its count or the held run's id) and never "whatever the next run
// finds". Pure: no I/O.

/** How a person asked: the last held list, pinned by its size, or by the held run's id. */
export type ApprovalPin =
  | { kind: 'held' }
  | { kind: 'count'; count: number }
  | { kind: 'run'; runId: string };

export interface ApprovalRequest {
  deletes?: ApprovalPin | undefined;
  adoptions?: ApprovalPin | undefined;
  /** Who approved: GITHUB_ACTOR in Actions, the OS user elsewhere. */
  by: string;
  /** What an administrator approved on the site (Users → Entra ID sync), if anything. */
  site?: SiteApproval | undefined;
}

/**
 * An approval given in wp-admin: the exact users of one held run's list, as the site
 * showed them. It approves them only while that run's list is the held one and names
 * exactly its users; it never approves a count or "the last list".
 */
export interface SiteApproval {
  heldRunId: string;
  /** WordPress user ids of the held removals approved (empty: removals not approved). */
  removals: number[];
  /** Held adoptions approved, each the pair that was listed (empty: adoptions not approved). */
  adoptions: Array<{ objectId: string; wordpressId: number }>;
  /** The WordPress login of who approved last. */
  by: string;
  /** Who approved each list, where the two were approved by different people. */
  removalsBy?: string | undefined;
  adoptionsBy?: string | undefined;
  at: string;
}

/** What the last run that held something held back, kept in the checkpoint. */
export interface HeldDecisions {
  runId: string;
  cycleId: string;
  at: string;
  removals: Array<{ id: number; login: string }>;
  adoptions: Array<{ objectId: string; wordpressId: number; login: string }>;
}

export interface ResolvedApprovals {
  /** WordPress user ids whose removal was approved. */
  removals?: { ids: ReadonlySet<number>; by: string } | undefined;
  /** Entra object id (lower case) → the WordPress user id it may be linked to. */
  adoptions?: { pairs: ReadonlyMap<string, number>; by: string } | undefined;
  /** Why an approval that was asked for approves nothing, for the summary. */
  notes: string[];
  /** Who approved on the site, for each list the site's approval matched. */
  site?: { removalsBy?: string | undefined; adoptionsBy?: string | undefined } | undefined;
}

/** Parses `--allow-deletes [N|RUN_ID]` / an action input: undefined when not given. */
export function parseApprovalPin(value: string | boolean | undefined): ApprovalPin | undefined {
  if (value === undefined || value === false) return undefined;
  const text = value === true ? 'true' : value.trim();
  if (text === '' || /^(false|no|off)$/i.test(text)) return undefined;
  if (/^(true|yes|on|all|held)$/i.test(text)) return { kind: 'held' };
  if (/^\d+$/.test(text)) return { kind: 'count', count: Number(text) };
  return { kind: 'run', runId: text };
}

export function describePin(pin: ApprovalPin): string {
  switch (pin.kind) {
    case 'held':
      return 'the last held list';
    case 'count':
      return `a held list of ${pin.count}`;
    case 'run':
      return `the list held by run ${pin.runId}`;
  }
}

export function resolveApprovals(
  request: ApprovalRequest | undefined,
  held: HeldDecisions | undefined,
): ResolvedApprovals {
  const notes: string[] = [];
  if (!request) return { notes };
  const resolved: ResolvedApprovals = { notes };
  const site = request.site;
  const removals = approvedBoth<'removals'>(
    request.deletes && approvedList(request.deletes, held, 'removals', '--allow-deletes'),
    site && site.removals.length > 0 ? siteApprovedList(site, held, 'removals') : undefined,
    request.by,
    notes,
  );
  if (removals) {
    resolved.removals = { ids: new Set(removals.list.map((user) => user.id)), by: removals.by };
    if (removals.siteBy) resolved.site = { ...resolved.site, removalsBy: removals.siteBy };
  }
  const adoptions = approvedBoth<'adoptions'>(
    request.adoptions && approvedList(request.adoptions, held, 'adoptions', '--allow-adoptions'),
    site && site.adoptions.length > 0 ? siteApprovedList(site, held, 'adoptions') : undefined,
    request.by,
    notes,
  );
  if (adoptions) {
    resolved.adoptions = {
      pairs: new Map(adoptions.list.map((pair) => [pair.objectId.toLowerCase(), pair.wordpressId])),
      by: adoptions.by,
    };
    if (adoptions.siteBy) resolved.site = { ...resolved.site, adoptionsBy: adoptions.siteBy };
  }
  return resolved;
}

/** The WordPress login of who approved a list on the site. */
function siteApproverLogin(site: SiteApproval, what: 'removals' | 'adoptions'): string {
  return (what === 'removals' ? site.removalsBy : site.adoptionsBy) ?? site.by;
}

type ListApproval<K extends 'removals' | 'adoptions'> = { list: HeldDecisions[K] } | { note: string };

/**
 * A list is approved when every approval given for it (the flag or input, the site's)
 * approves it: a flag cannot widen what the site approved, nor the site what a flag named.
 */
function approvedBoth<K extends 'removals' | 'adoptions'>(
  flag: ListApproval<K> | undefined,
  site: (ListApproval<K> & { by: string }) | undefined,
  flagBy: string,
  notes: string[],
): { list: HeldDecisions[K]; by: string; siteBy?: string | undefined } | undefined {
  const given = [flag, site].filter((approval) => approval !== undefined);
  if (given.length === 0) return undefined;
  for (const approval of given) if ('note' in approval) notes.push(approval.note);
  if (given.some((approval) => 'note' in approval)) return undefined;
  const list = (given[0] as { list: HeldDecisions[K] }).list;
  const by = [flag ? flagBy : undefined, site?.by].filter((name) => name !== undefined).join(' and ');
  return { list, by, siteBy: site?.by };
}

/**
 * The held list (`what`) a site approval approves: only the list of the run it was given
 * for, and only with exactly the users the site showed.
 */
function siteApprovedList<K extends 'removals' | 'adoptions'>(
  site: SiteApproval,
  held: HeldDecisions | undefined,
  what: K,
): ListApproval<K> & { by: string } {
  const login = siteApproverLogin(site, what);
  // How the rows and the summary name who approved, beside a GITHUB_ACTOR or OS user.
  const by = `${login} (in wp-admin)`;
  const approved = `The ${what} ${login} approved in wp-admin for run ${site.heldRunId}'s held list`;
  const again = 'review the held list under Users → Entra ID sync and approve it again';
  const size = held?.[what].length ?? 0;
  if (!held || size === 0) {
    return {
      by,
      note: `${approved} approve nothing: no ${what} are held now (that list was used or replaced).`,
    };
  }
  if (held.runId !== site.heldRunId) {
    return {
      by,
      note: `${approved} approve nothing: the held list is now run ${held.runId}'s (${size} ${what}); ${again}.`,
    };
  }
  const approvedKeys = new Set(
    what === 'removals'
      ? site.removals.map(String)
      : site.adoptions.map((pair) => pairKey(pair.objectId, pair.wordpressId)),
  );
  const heldKeys =
    what === 'removals'
      ? held.removals.map((user) => String(user.id))
      : held.adoptions.map((pair) => pairKey(pair.objectId, pair.wordpressId));
  if (approvedKeys.size !== heldKeys.length || heldKeys.some((key) => !approvedKeys.has(key))) {
    return {
      by,
      note: `${approved} approve nothing: they name other users than that list (${size} ${what}); ${again}.`,
    };
  }
  return { by, list: held[what] };
}

function pairKey(objectId: string, wordpressId: number): string {
  return `${objectId.toLowerCase()}→${wordpressId}`;
}

/**
 * What the summary says when a site approval matched the held list but the run found more
 * or other users than it names: those are held again, to be reviewed on the site.
 */
export function siteApprovalHeldAgain(
  approvals: ResolvedApprovals,
  found: { unapprovedRemovals: readonly string[]; heldAdoptions: readonly string[] },
): string[] {
  const notes: string[] = [];
  const names = (logins: readonly string[]) =>
    `${logins.slice(0, 10).join(', ')}${logins.length > 10 ? ', …' : ''}`;
  const removalsBy = approvals.site?.removalsBy;
  if (removalsBy && found.unapprovedRemovals.length > 0) {
    notes.push(
      `The removals approved by ${removalsBy} no longer match: this run would also remove ${found.unapprovedRemovals.length} users not on that list (${names(found.unapprovedRemovals)}), so it removed no one and holds the new list; review it under Users → Entra ID sync and approve it again.`,
    );
  }
  const adoptionsBy = approvals.site?.adoptionsBy;
  if (adoptionsBy && found.heldAdoptions.length > 0) {
    notes.push(
      `The adoptions approved by ${adoptionsBy} do not name ${found.heldAdoptions.length} more accounts this run matched (${names(found.heldAdoptions)}), so those are held; review them under Users → Entra ID sync and approve them there.`,
    );
  }
  return notes;
}

/** The held list (`what`) that `pin` approves, or the note why it approves nothing. */
function approvedList<K extends 'removals' | 'adoptions'>(
  pin: ApprovalPin,
  held: HeldDecisions | undefined,
  what: K,
  flag: string,
): ListApproval<K> {
  const size = held?.[what].length ?? 0;
  if (!held || size === 0) {
    return {
      note: `${flag} approves nothing: no ${what} were held before, so there is no list a person reviewed; a run that holds ${what} lists them first.`,
    };
  }
  if (pin.kind === 'count' && pin.count !== size) {
    return {
      note: `${flag} ${pin.count} approves nothing: the held list (run ${held.runId}) has ${size} ${what}, not ${pin.count}; check the list again, then approve with ${flag} ${size}.`,
    };
  }
  if (pin.kind === 'run' && pin.runId !== held.runId) {
    return {
      note: `${flag} ${pin.runId} approves nothing: the last held list is run ${held.runId}'s (${size} ${what}); check it, then approve with ${flag} ${size}.`,
    };
  }
  return { list: held[what] };
}

/**
 * The run's approvals with the site's joined in. The site's stands on its own: with no
 * flag or input given, it is the whole request.
 */
export function withSiteApproval(
  request: ApprovalRequest | undefined,
  site: SiteApproval | undefined,
): ApprovalRequest | undefined {
  if (!site) return request;
  return { ...(request ?? { by: site.by }), site };
}
