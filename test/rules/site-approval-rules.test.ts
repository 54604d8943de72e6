// An approval given in wp-admin approves one held run's list with exactly the users the
// site showed; beside a flag or an Action input, both must approve the same list.
import { describe, expect, it } from 'vitest';
import {
  type HeldDecisions,
  resolveApprovals,
  type SiteApproval,
  siteApprovalHeldAgain,
  withSiteApproval,
} from '../../src/rules/approvals.ts';

const held: HeldDecisions = {
  runId: '20261201T080000Z-a1b2c3',
  cycleId: 'c1',
  at: '2026-12-01T08:00:00Z',
  removals: [
    { id: 7, login: 'ann' },
    { id: 9, login: 'bob' },
  ],
  adoptions: [{ objectId: 'ABC-1', wordpressId: 12, login: 'cid' }],
};

const siteApproval = (change: Partial<SiteApproval> = {}): SiteApproval => ({
  heldRunId: held.runId,
  removals: [9, 7],
  adoptions: [{ objectId: 'abc-1', wordpressId: 12 }],
  by: 'alice',
  at: '2026-12-01T09:00:00Z',
  ...change,
});

const fromSite = (site: SiteApproval) => resolveApprovals(withSiteApproval(undefined, site), held);

describe('approvals given in wp-admin', () => {
  it('approve the held run’s exact users, named as approved in wp-admin by the login', () => {
    const resolved = fromSite(siteApproval());
    expect([...(resolved.removals?.ids ?? [])].sort()).toEqual([7, 9]);
    expect(resolved.removals?.by).toBe('alice (in wp-admin)');
    expect([...(resolved.adoptions?.pairs ?? [])]).toEqual([['abc-1', 12]]);
    expect(resolved.notes).toEqual([]);
    expect(resolved.site).toEqual({ removalsBy: 'alice (in wp-admin)', adoptionsBy: 'alice (in wp-admin)' });
  });

  it('name each list’s own approver where two people approved them', () => {
    const resolved = fromSite(siteApproval({ by: 'bert', removalsBy: 'alice', adoptionsBy: 'bert' }));
    expect(resolved.removals?.by).toBe('alice (in wp-admin)');
    expect(resolved.adoptions?.by).toBe('bert (in wp-admin)');
  });

  it('approve only the lists they name: removals alone leave the adoptions held', () => {
    const resolved = fromSite(siteApproval({ adoptions: [] }));
    expect(resolved.removals).toBeDefined();
    expect(resolved.adoptions).toBeUndefined();
    expect(resolved.notes).toEqual([]);
  });

  it('approve nothing for another held run, and say which list is held now', () => {
    const resolved = fromSite(siteApproval({ heldRunId: '20261130T080000Z-ffffff' }));
    expect(resolved.removals).toBeUndefined();
    expect(resolved.adoptions).toBeUndefined();
    expect(resolved.notes[0]).toContain(
      "The removals alice approved in wp-admin for run 20261130T080000Z-ffffff's held list approve nothing: the held list is now run 20261201T080000Z-a1b2c3's (2 removals)",
    );
    expect(resolved.notes[1]).toContain('The adoptions alice approved in wp-admin');
  });

  it.each([
    ['one user fewer', { removals: [7] }],
    ['one user more', { removals: [7, 9, 11] }],
    ['another account for the same person', { adoptions: [{ objectId: 'ABC-1', wordpressId: 13 }] }],
  ])('approve nothing of a list when they name other users than it: %s', (_, change) => {
    const resolved = fromSite(siteApproval(change));
    const [changed, untouched] = 'removals' in change ? ['removals', 'adoptions'] : ['adoptions', 'removals'];
    expect(resolved[changed as 'removals' | 'adoptions']).toBeUndefined();
    expect(resolved[untouched as 'removals' | 'adoptions']).toBeDefined();
    expect(resolved.notes).toEqual([expect.stringContaining(`The ${changed} alice approved in wp-admin`)]);
    expect(resolved.notes[0]).toContain('approve nothing: they name other users than that list');
  });

  it('approve nothing once nothing is held any more', () => {
    const resolved = resolveApprovals(withSiteApproval(undefined, siteApproval()), undefined);
    expect(resolved.removals).toBeUndefined();
    expect(resolved.notes[0]).toContain('approve nothing: no removals are held now');
  });

  it('with a flag too, both must approve the list; the rows then name both approvers', () => {
    const both = resolveApprovals(
      withSiteApproval({ deletes: { kind: 'count', count: 2 }, by: 'octo-admin' }, siteApproval()),
      held,
    );
    expect(both.removals?.by).toBe('octo-admin and alice (in wp-admin)');
    expect(both.adoptions?.by).toBe('alice (in wp-admin)');

    const flagDiffers = resolveApprovals(
      withSiteApproval({ deletes: { kind: 'count', count: 3 }, by: 'octo-admin' }, siteApproval()),
      held,
    );
    expect(flagDiffers.removals).toBeUndefined();
    expect(flagDiffers.notes.join(' ')).toContain('--allow-deletes 3 approves nothing');

    const siteDiffers = resolveApprovals(
      withSiteApproval({ deletes: { kind: 'held' }, by: 'octo-admin' }, siteApproval({ removals: [7] })),
      held,
    );
    expect(siteDiffers.removals).toBeUndefined();
    expect(siteDiffers.notes.join(' ')).toContain('they name other users than that list');
  });

  it('say the approval no longer matches when the run found more removals or held other adoptions', () => {
    const resolved = fromSite(siteApproval());
    expect(siteApprovalHeldAgain(resolved, { unapprovedRemovals: ['dan'], heldAdoptions: ['eve'] })).toEqual([
      expect.stringContaining(
        'The removals approved by alice (in wp-admin) no longer match: this run would also remove 1 users not on that list (dan)',
      ),
      expect.stringContaining(
        'The adoptions approved by alice (in wp-admin) do not name 1 more accounts this run matched (eve), so those are held',
      ),
    ]);
    // A flag's approval that found more says so in the summary already.
    const flagOnly = resolveApprovals({ deletes: { kind: 'held' }, by: 'octo-admin' }, held);
    expect(siteApprovalHeldAgain(flagOnly, { unapprovedRemovals: ['dan'], heldAdoptions: [] })).toEqual([]);
  });
});
