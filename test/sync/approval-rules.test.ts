import { describe, expect, it } from 'vitest';
import { type HeldDecisions, parseApprovalPin, resolveApprovals } from '../../src/rules/approvals.ts';

const held: HeldDecisions = {
  runId: '20261201T080000Z-a1b2c3',
  cycleId: 'c1',
  at: '2026-12-01T08:00:00Z',
  removals: [
    { id: 7, login: 'ann' },
    { id: 9, login: 'bob' },
  ],
  adoptions: [{ objectId: 'ABC', wordpressId: 12, login: 'cid' }],
};

describe('approval rules', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['false', undefined],
    ['true', { kind: 'held' }],
    ['held', { kind: 'held' }],
    ['40', { kind: 'count', count: 40 }],
    ['20261201T080000Z-a1b2c3', { kind: 'run', runId: '20261201T080000Z-a1b2c3' }],
  ])('reads %j as %j', (input, pin) => {
    expect(parseApprovalPin(input)).toEqual(pin);
  });

  it('approves exactly the held ids and pairs, recording who approved', () => {
    const resolved = resolveApprovals(
      { deletes: { kind: 'held' }, adoptions: { kind: 'count', count: 1 }, by: 'pat' },
      held,
    );
    expect([...(resolved.removals?.ids ?? [])]).toEqual([7, 9]);
    expect(resolved.removals?.by).toBe('pat');
    expect([...(resolved.adoptions?.pairs ?? [])]).toEqual([['abc', 12]]);
    expect(resolved.notes).toEqual([]);
  });

  it.each([
    [{ kind: 'count', count: 3 } as const, 'has 2 removals, not 3'],
    [{ kind: 'run', runId: 'other-run' } as const, "the last held list is run 20261201T080000Z-a1b2c3's"],
  ])('a pin that does not match the held list approves nothing: %j', (pin, message) => {
    const resolved = resolveApprovals({ deletes: pin, by: 'pat' }, held);
    expect(resolved.removals).toBeUndefined();
    expect(resolved.notes.join(' ')).toContain(message);
  });

  it('approves nothing when nothing was held', () => {
    const resolved = resolveApprovals({ deletes: { kind: 'held' }, by: 'pat' }, undefined);
    expect(resolved.removals).toBeUndefined();
    expect(resolved.notes[0]).toContain('no removals were held before');
  });
});
