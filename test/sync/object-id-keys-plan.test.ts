// adoption.writeObjectIdKeys in the planner: the object ID goes under the SSO plugin's key
// when the sync creates or links an account, once, and never over another object ID.
import { describe, expect, it } from 'vitest';
import type { WordPressUser } from '../../src/model/wordpress-user.ts';
import { objectIdKeysField } from '../../src/rules/plan.ts';
import { ada, planFor, storedAda } from '../support/plan-fixtures.ts';

const settings = { writeObjectIdKeys: ['aadObjectId'] };
const someoneElse = '22222222-2222-4222-8222-222222222222';

/** Ada's account as the site lists it, with the object IDs it carries under other keys. */
function adaWith(linkedObjectIds: Record<string, string>, meta?: Record<string, unknown>): WordPressUser {
  return {
    ...storedAda(5, meta ? { meta } : {}),
    entra_wp_sync_identity: {
      registeredAt: '2026-01-01T00:00:00Z',
      identityChangedAt: null,
      linkedObjectIds,
    },
  };
}

describe('writing the object ID under the SSO plugin keys', () => {
  it('puts it in the create of a new user, and nowhere when the job names no key', () => {
    const [create] = planFor({ settings });
    expect(create).toMatchObject({
      action: 'create',
      body: { [objectIdKeysField]: { aadObjectId: ada.id } },
    });
    const [plain] = planFor();
    expect(plain?.action === 'create' && plain.body).not.toHaveProperty(objectIdKeysField);
  });

  it('writes nothing where the site keeps no markers (no companion plugin)', () => {
    const [create] = planFor({ settings: { ...settings, writeMarkers: false } });
    expect(create?.action === 'create' && create.body).not.toHaveProperty(objectIdKeysField);
  });

  it('adds the key to a managed account that lacks it, even with actions.update off', () => {
    const [change] = planFor({ wordpress: [adaWith({})], settings: { ...settings, update: false } });
    expect(change).toMatchObject({
      action: 'update',
      fields: ['meta.aadObjectId'],
      patch: { [objectIdKeysField]: { aadObjectId: ada.id } },
    });
  });

  it('plans nothing for an account that already carries it', () => {
    expect(planFor({ wordpress: [adaWith({ aadObjectId: ada.id })], settings })[0]?.action).toBe('unchanged');
  });

  it("leaves a key holding another person's object ID alone", () => {
    expect(planFor({ wordpress: [adaWith({ aadObjectId: someoneElse })], settings })[0]?.action).toBe(
      'unchanged',
    );
  });

  it('writes blind never: without the account history the current value is unknown', () => {
    expect(planFor({ wordpress: [storedAda(5)], settings })[0]?.action).toBe('unchanged');
  });
});
