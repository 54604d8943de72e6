import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  basicAuth,
  runPhpOnSite,
  useWordPressSite,
  type WordPressSite,
  wordpressStack,
} from '../support/wordpress-site.ts';

let site: WordPressSite;

beforeEach(async () => {
  site = await useWordPressSite();
});

async function createUser(username: string): Promise<number> {
  const response = await fetch(`${site.restUrl}wp/v2/users`, {
    method: 'POST',
    headers: adminHeaders(site),
    body: JSON.stringify({ username, email: `${username}@example.test`, password: 'x-Secret-123' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: number }).id;
}

async function usernames(): Promise<string[]> {
  const response = await fetch(`${site.restUrl}wp/v2/users?context=edit&per_page=100&_fields=username`, {
    headers: adminHeaders(site),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { username: string }[]).map((user) => user.username);
}

describe('WordPress test bed', () => {
  it('answers REST as the administrator when given the application password', async () => {
    const response = await fetch(`${site.restUrl}wp/v2/users/me?context=edit`, {
      headers: adminHeaders(site),
    });
    expect(response.status).toBe(200);
    const me = (await response.json()) as {
      username: string;
      roles: string[];
      capabilities: Record<string, boolean>;
    };
    expect(me.username).toBe(site.adminUser);
    expect(me.roles).toEqual(['administrator']);
    expect(me.capabilities.create_users).toBe(true);
  });

  it('refuses a wrong application password with 401', async () => {
    const response = await fetch(`${site.restUrl}wp/v2/users/me?context=edit`, {
      headers: { authorization: basicAuth(site.adminUser, 'abcd efgh ijkl mnop qrst uvwx') },
    });
    expect(response.status).toBe(401);
  });

  it('gives the editor an application password that works, without the right to list users', async () => {
    const headers = { authorization: basicAuth(site.editorUser, site.editorAppPassword) };
    const me = await fetch(`${site.restUrl}wp/v2/users/me?context=edit`, { headers });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { roles: string[] }).roles).toEqual(['editor']);
    const list = await fetch(`${site.restUrl}wp/v2/users?context=edit`, { headers });
    expect(list.status).toBe(403);
  });

  describe('reset between tests', () => {
    it('lets a test create a user (kept until the next reset)', async () => {
      await createUser('leftover-from-earlier-test');
      expect(await usernames()).toContain('leftover-from-earlier-test');
    });

    it('starts the next test without the users an earlier test created', async () => {
      expect(await usernames()).toEqual(expect.arrayContaining([site.adminUser, site.editorUser]));
      expect(await usernames()).not.toContain('leftover-from-earlier-test');
    });

    it('removes a user created before resetSite() and restores the two install accounts', async () => {
      await createUser('created-before-reset');
      await wordpressStack().resetSite(site.index);
      expect((await usernames()).sort()).toEqual([site.adminUser, site.editorUser].sort());
    });

    it('empties the uploads directory of the site', async () => {
      const response = await fetch(`${site.restUrl}wp/v2/media`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(site.adminUser, site.appPassword),
          'content-type': 'text/plain',
          'content-disposition': 'attachment; filename=note.txt',
        },
        body: 'hello',
      });
      expect(response.status).toBe(201);
      const media = (await response.json()) as { media_details?: { file?: string }; source_url: string };
      const uploads = join(
        wordpressStack().descriptor.wordpressDir,
        'wp-content',
        'uploads',
        `site-${site.index}`,
      );
      const relative = media.source_url.split(`/uploads/site-${site.index}/`)[1] ?? '';
      expect(relative).not.toBe('');
      expect(existsSync(join(uploads, relative))).toBe(true);
      await wordpressStack().resetSite(site.index);
      expect(existsSync(join(uploads, relative))).toBe(false);
    });
  });

  it('runs PHP with WordPress loaded for this worker’s site', async () => {
    const out = await runPhpOnSite(
      'echo wp_json_encode( array( home_url(), get_user_by( "login", "admin" )->ID ) );',
    );
    expect(JSON.parse(out)).toEqual([site.url, 1]);
  });

  it('reports a PHP fatal error from runPhp as a rejection', async () => {
    await expect(runPhpOnSite('entra_no_such_function();')).rejects.toThrow(/entra_no_such_function/);
  });
});
