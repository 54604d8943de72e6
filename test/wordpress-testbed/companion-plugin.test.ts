import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { metaKeys } from '../../src/model/meta-keys.ts';
import { adminHeaders, basicAuth, useWordPressSite, type WordPressSite } from '../support/wordpress-site.ts';

let site: WordPressSite;

beforeEach(async () => {
  site = await useWordPressSite();
});

type UserWithMeta = { id: number; meta: Record<string, unknown> };

async function readMeta(id: number): Promise<Record<string, unknown>> {
  const response = await fetch(`${site.restUrl}wp/v2/users/${id}?context=edit`, {
    headers: adminHeaders(site),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as UserWithMeta).meta;
}

describe('companion plugin user meta', () => {
  it('lets an administrator write the tool’s meta when creating a user and read it back', async () => {
    const created = await fetch(`${site.restUrl}wp/v2/users`, {
      method: 'POST',
      headers: adminHeaders(site),
      body: JSON.stringify({
        username: 'alice',
        email: 'alice@example.test',
        password: 'x-Secret-123',
        meta: {
          [metaKeys.objectId]: '0b7e5d0c-1f7e-4a3e-9d57-3f1f0c2f8a11',
          [metaKeys.jobs]: ['staff', 'alumni'],
          [metaKeys.status]: 'active',
          [metaKeys.restoreRoles]: ['author'],
        },
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as UserWithMeta;
    expect(await readMeta(id)).toMatchObject({
      [metaKeys.objectId]: '0b7e5d0c-1f7e-4a3e-9d57-3f1f0c2f8a11',
      [metaKeys.jobs]: ['staff', 'alumni'],
      [metaKeys.status]: 'active',
      [metaKeys.restoreRoles]: ['author'],
    });
  });

  it('rejects a status other than active or disabled', async () => {
    const response = await fetch(`${site.restUrl}wp/v2/users/me`, {
      method: 'POST',
      headers: adminHeaders(site),
      body: JSON.stringify({ meta: { [metaKeys.status]: 'paused' } }),
    });
    expect(response.status).toBe(400);
    // Unset, the status reads as null (no default: '' is outside the enum).
    expect((await readMeta(1))[metaKeys.status]).toBeNull();
  });

  it('refuses the meta to an editor, who may edit their own profile but not users', async () => {
    const meResponse = await fetch(`${site.restUrl}wp/v2/users/me?context=edit`, {
      headers: { authorization: basicAuth(site.editorUser, site.editorAppPassword) },
    });
    const editorId = ((await meResponse.json()) as UserWithMeta).id;
    const response = await fetch(`${site.restUrl}wp/v2/users/me`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(site.editorUser, site.editorAppPassword),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ meta: { [metaKeys.objectId]: 'forged-object-id' } }),
    });
    expect(response.status).toBe(403);
    expect((await readMeta(editorId))[metaKeys.objectId]).toBe('');
  });
});

describe('companion plugin REST namespace entra-wp-sync/v1', () => {
  let infoUrl: string;
  beforeAll(async () => {
    infoUrl = `${(await useWordPressSite()).restUrl}entra-wp-sync/v1/info`;
  });

  it('refuses /info to anonymous callers with 401', async () => {
    const response = await fetch(infoUrl);
    expect(response.status).toBe(401);
  });

  it('refuses /info to an editor, who cannot list users, with 403', async () => {
    const response = await fetch(infoUrl, {
      headers: { authorization: basicAuth(site.editorUser, site.editorAppPassword) },
    });
    expect(response.status).toBe(403);
  });

  it('gives the administrator the plugin version and its features', async () => {
    const response = await fetch(infoUrl, { headers: adminHeaders(site) });
    expect(response.status).toBe(200);
    const info = (await response.json()) as { version: string; features: string[] };
    expect(info.version).toBe('0.1.0');
    expect(info.features).toContain('user-meta');
  });
});
