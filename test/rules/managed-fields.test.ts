import { describe, expect, it } from 'vitest';
import { metaKeys } from '../../src/model/meta-keys.ts';
import { planFor, storedAda } from '../support/plan-fixtures.ts';

// The planner records on each account which fields each job sets, so the profile screen
// can warn that a local edit of those is overwritten at the next run.
const adaWith = (managed: unknown, changes: Record<string, unknown> = {}) =>
  storedAda(4, {
    meta: {
      entra_wp_sync_object_id: '11111111-1111-4111-8111-111111111111',
      entra_wp_sync_jobs: ['alumni', 'staff'],
      department: 'Engines',
      [metaKeys.managedFields]: managed,
    },
    ...changes,
  });

const staffFields = ['staff:email', 'staff:first_name', 'staff:last_name', 'staff:name', 'staff:roles'];

describe('the fields a job manages, recorded on the account', () => {
  it('are written with a new account: the email, the mapped profile fields and the roles', () => {
    const [change] = planFor();
    if (change?.action !== 'create') throw new Error(`expected a create, got ${change?.action}`);
    expect(change.body.meta[metaKeys.managedFields]).toEqual(staffFields);
  });

  it("replace this job's entries and keep another job's", () => {
    const [change] = planFor({ wordpress: [adaWith(['alumni:nickname', 'staff:email', 'staff:url'])] });
    if (change?.action !== 'update') throw new Error(`expected an update, got ${change?.action}`);
    expect(change.patch).toEqual({ meta: { [metaKeys.managedFields]: ['alumni:nickname', ...staffFields] } });
  });

  it('plan no write once recorded', () => {
    const [change] = planFor({ wordpress: [adaWith(['alumni:nickname', ...staffFields])] });
    expect(change?.action).toBe('unchanged');
  });

  it('leave out the roles of an administrator the job may not change', () => {
    const [change] = planFor({ wordpress: [adaWith(staffFields, { roles: ['administrator'] })] });
    if (change?.action !== 'update') throw new Error(`expected an update, got ${change?.action}`);
    expect(change.patch.meta).toEqual({
      [metaKeys.managedFields]: staffFields.filter((f) => f !== 'staff:roles'),
    });
  });

  it('are recorded even where actions.update is off, like the marker', () => {
    const [change] = planFor({ wordpress: [adaWith([])], settings: { update: false } });
    expect(change?.action).toBe('update');
  });

  it('are not planned where the site does not keep them (an older companion plugin)', () => {
    const [change] = planFor({ wordpress: [storedAda(4)] });
    expect(change?.action).toBe('unchanged');
  });
});
