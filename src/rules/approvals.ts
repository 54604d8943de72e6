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
  if (request.deletes) {
    const approved = approvedList(request.deletes, held, 'removals', '--allow-deletes');
    if ('note' in approved) notes.push(approved.note);
    else resolved.removals = { ids: new Set(approved.list.map((user) => user.id)), by: request.by };
  }
  if (request.adoptions) {
    const approved = approvedList(request.adoptions, held, 'adoptions', '--allow-adoptions');
    if ('note' in approved) notes.push(approved.note);
    else {
      resolved.adoptions = {
        pairs: new Map(approved.list.map((pair) => [pair.objectId.toLowerCase(), pair.wordpressId])),
        by: request.by,
      };
    }
  }
  return resolved;
}

/** The held list (`what`) that `pin` approves, or the note why it approves nothing. */
function approvedList<K extends 'removals' | 'adoptions'>(
  pin: ApprovalPin,
  held: HeldDecisions | undefined,
  what: K,
  flag: string,
): { list: HeldDecisions[K] } | { note: string } {
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
