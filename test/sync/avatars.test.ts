import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

// A real 1×1 PNG, so WordPress can make its image sizes.
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

let runNumber = 0;
async function run() {
  const out = join(harness!.directory, `run-${++runNumber}`);
  return harness!.run(['run', '-c', harness!.configPath, '--out', out]);
}

async function avatarState(email: string) {
  return JSON.parse(
    await runPhpOnSite(`
      $user = get_user_by('email', '${email}');
      echo json_encode([
        'url' => get_avatar_url($user->ID, ['size' => 96]),
        'attachment' => (int) get_user_meta($user->ID, 'entra_wp_sync_avatar_id', true),
        'attachments' => count(get_posts(['post_type' => 'attachment', 'post_status' => 'any', 'numberposts' => -1])),
      ]);
    `),
  ) as { url: string; attachment: number; attachments: number };
}

describe('avatars from Entra photos', () => {
  it('uploads a photo once, replaces it only when it changes, and leaves users without one on the default', async () => {
    const [withPhoto, withoutPhoto] = generateUsers(2, 61);
    harness = await startSyncHarness([withPhoto!, withoutPhoto!]);
    harness.graph.tenant.setPhoto(withPhoto!.id, png);
    await harness.writeConfig({ avatar: { enabled: true, size: '96x96' } });
    expect((await run()).code).toBe(0);

    const first = await avatarState(String(withPhoto!.mail));
    expect(first.attachment).toBeGreaterThan(0);
    expect(first.url).toContain('/uploads/');
    expect((await avatarState(String(withoutPhoto!.mail))).url).toContain('gravatar.com');

    harness.graph.requests.length = 0;
    expect((await run()).code).toBe(0);
    expect((await avatarState(String(withPhoto!.mail))).attachment).toBe(first.attachment);
    const photoBytesRead = harness.graph.requests.filter((request) => request.path.endsWith('/$value'));
    expect(photoBytesRead).toHaveLength(0);

    harness.graph.tenant.setPhoto(withPhoto!.id, png);
    expect((await run()).code).toBe(0);
    const replaced = await avatarState(String(withPhoto!.mail));
    expect(replaced.attachment).not.toBe(first.attachment);
    expect(replaced.attachments).toBe(1);
  });

  it('reads photo versions 20 users per Graph $batch and asks again for an item throttled inside it', async () => {
    const people = generateUsers(45, 62);
    harness = await startSyncHarness(people);
    for (const person of people.slice(0, 3)) harness.graph.tenant.setPhoto(person.id, png);
    harness.graph.faults.once({
      path: new RegExp(`/users/${people[1]!.id}/photo$`),
      status: 429,
      retryAfter: 0,
    });
    await harness.writeConfig({ avatar: { enabled: true, size: '96x96' } });
    expect((await run()).code).toBe(0);
    for (const person of people.slice(0, 3)) {
      expect((await avatarState(String(person.mail))).attachment).toBeGreaterThan(0);
    }
    const paths = harness.graph.requests.map((request) => request.path);
    // 45 users in one page: 3 batches, and one more for the throttled item.
    expect(paths.filter((path) => path === '/v1.0/$batch')).toHaveLength(4);
    expect(paths.filter((path) => path.endsWith('/photo'))).toHaveLength(0);
  });
});
