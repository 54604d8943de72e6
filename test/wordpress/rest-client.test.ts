import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActionableError } from '../../src/errors.ts';
import { WordPressClient } from '../../src/wordpress/rest-client.ts';
import { fetchSiteAccount, missingCapabilities } from '../../src/wordpress/site-account.ts';
import { loadAllUsers } from '../../src/wordpress/user-index.ts';
import { runPhpOnSite, useWordPressSite, type WordPressSite } from '../support/wordpress-site.ts';

let site: WordPressSite;
const servers: Server[] = [];

beforeAll(async () => {
  site = await useWordPressSite();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function adminClient(options = {}): WordPressClient {
  return new WordPressClient(
    { url: site.url, username: site.adminUser, applicationPassword: site.appPassword },
    options,
  );
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${(server.address() as AddressInfo).port}`;
}

async function failureOf(promise: Promise<unknown>): Promise<ActionableError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ActionableError);
  return error as ActionableError;
}

describe('WordPress REST client', () => {
  it('signs in with the application password and sees the capabilities to manage users', async () => {
    const client = adminClient();
    const account = await fetchSiteAccount(client);
    expect(account.username).toBe(site.adminUser);
    expect(account.roles).toContain('administrator');
    expect(missingCapabilities(account)).toEqual([]);
    await client.close();
  });

  it('names the account and says what to do when the application password is wrong', async () => {
    const client = new WordPressClient({
      url: site.url,
      username: site.adminUser,
      applicationPassword: 'abcd efgh ijkl mnop qrst uvwx',
    });
    const error = await failureOf(fetchSiteAccount(client));
    expect(error.message).toContain(`application password for "${site.adminUser}"`);
    expect(error.hint).toContain('WORDPRESS_APP_PASSWORD');
    expect(error.message).not.toContain('abcd');
    await client.close();
  });

  it('reports the capabilities an editor account lacks', async () => {
    const client = new WordPressClient({
      url: site.url,
      username: site.editorUser,
      applicationPassword: site.editorAppPassword,
    });
    const account = await fetchSiteAccount(client);
    expect(missingCapabilities(account)).toEqual(
      expect.arrayContaining(['list_users', 'create_users', 'delete_users']),
    );
    await client.close();
  });

  it('says plainly when no WordPress REST API answers at the URL', async () => {
    const port = await listen(
      createHttpServer((_request, response) => {
        response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      }),
    );
    const client = new WordPressClient({
      url: `http://127.0.0.1:${port}`,
      username: 'x',
      applicationPassword: 'y',
    });
    const error = await failureOf(fetchSiteAccount(client));
    expect(error.message).toContain('No WordPress REST API answers');
    expect(error.hint).toContain('wordpress.url');
    await client.close();
  });

  it('refuses a certificate it cannot verify and says how to trust it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'entra-wp-sync-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_request, response) => response.end('{}'),
    );
    const port = await listen(server as unknown as Server);
    rmSync(dir, { recursive: true, force: true });
    const client = new WordPressClient({
      url: `https://127.0.0.1:${port}`,
      username: 'x',
      applicationPassword: 'y',
    });
    const error = await failureOf(fetchSiteAccount(client));
    expect(error.message).toContain('is not trusted');
    expect(error.hint).toContain('NODE_EXTRA_CA_CERTS');
    await client.close();
  });

  it('gives up on a site that does not answer in time, with a hint', async () => {
    const port = await listen(createHttpServer(() => {}));
    const client = new WordPressClient(
      { url: `http://127.0.0.1:${port}`, username: 'x', applicationPassword: 'y' },
      { timeoutMs: 300, retries: 0 },
    );
    const error = await failureOf(fetchSiteAccount(client));
    expect(error.message).toContain('did not answer in time');
    await client.close();
  });

  it('retries a 502 from a proxy and then succeeds', async () => {
    let calls = 0;
    const port = await listen(
      createHttpServer((request, response) => {
        calls++;
        if (calls === 1) {
          response.writeHead(502).end('Bad Gateway');
          return;
        }
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: request.url }));
      }),
    );
    const client = new WordPressClient(
      { url: `http://127.0.0.1:${port}`, username: 'x', applicationPassword: 'y' },
      { retryBaseDelayMs: 1 },
    );
    const response = await client.request<{ ok: string }>('GET', '/wp/v2/users');
    expect(response.data.ok).toBe('/wp-json/wp/v2/users');
    expect(calls).toBe(2);
    await client.close();
  });

  it('loads every user once, ordered by id, across pages read in parallel', async () => {
    await runPhpOnSite(`
      for ($i = 1; $i <= 230; $i++) {
        $id = wp_insert_user(['user_login' => "bulk$i", 'user_email' => "bulk$i@example.com", 'user_pass' => wp_generate_password(), 'first_name' => "Bulk $i"]);
        if ($i % 10 === 0) update_user_meta($id, 'entra_wp_sync_object_id', "oid-$i");
      }
      echo 'ok';
    `);
    const client = adminClient();
    const users = await loadAllUsers(client, { concurrency: 3 });
    expect(users).toHaveLength(232);
    expect(new Set(users.map((user) => user.id)).size).toBe(232);
    const bulk100 = users.find((user) => user.username === 'bulk100');
    expect(bulk100).toMatchObject({
      email: 'bulk100@example.com',
      first_name: 'Bulk 100',
      roles: ['subscriber'],
    });
    expect(bulk100?.meta.entra_wp_sync_object_id).toBe('oid-100');
    // 3 pages of 100; no page is read twice.
    expect(client.requestCount).toBe(3);
    await client.close();
  });
});
