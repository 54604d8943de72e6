// Which mapped meta the site accepts is the site's decision, enforced on the server.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
} from '../support/wordpress-site.ts';

let site: WordPressSite;

beforeEach(async () => {
  site = await useWordPressSite();
  await runPhpOnSite(`
    update_option('entra_wp_sync_allowed_meta_keys', ['department', '_secret', 'wp_capabilities', 'wp_user_level', 'session_tokens', 'entra_wp_sync_status']);
    echo 'ok';
  `);
});

describe('custom user meta', () => {
  it('accepts keys the site allows and refuses protected ones even when the option lists them', async () => {
    const response = await fetch(`${site.restUrl}wp/v2/users?context=edit`, {
      method: 'POST',
      headers: adminHeaders(site),
      body: JSON.stringify({
        username: 'metatest',
        email: 'metatest@contoso.com',
        password: 'x-Long-Password-1',
        meta: {
          department: 'Sales',
          _secret: 'leak',
          wp_capabilities: { administrator: true },
          wp_user_level: '10',
          session_tokens: 'x',
        },
      }),
    });
    const body = (await response.json()) as { id: number; roles: string[]; meta: Record<string, unknown> };
    expect(body.meta.department).toBe('Sales');
    expect(Object.keys(body.meta)).not.toContain('_secret');
    const stored = await runPhpOnSite(`
      $u = get_userdata(${body.id ?? 0});
      echo json_encode(['secret' => get_user_meta(${body.id ?? 0}, '_secret', true), 'roles' => $u ? $u->roles : null, 'level' => get_user_meta(${body.id ?? 0}, 'wp_user_level', true)]);
    `);
    expect(JSON.parse(stored)).toEqual({ secret: '', roles: ['subscriber'], level: '0' });
  });

  it('lists the allowed keys and the privileged roles in /info', async () => {
    const info = (await (
      await fetch(`${site.restUrl}entra-wp-sync/v1/info`, { headers: adminHeaders(site) })
    ).json()) as { allowedMetaKeys: string[]; roles: Array<{ slug: string; privileged: boolean }> };
    expect(info.allowedMetaKeys).toEqual(['department']);
    const privileged = info.roles.filter((role) => role.privileged).map((role) => role.slug);
    expect(privileged).toEqual(['administrator']);
  });
});
