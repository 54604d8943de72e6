import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { adminHeaders, runPhpOnSite } from '../support/wordpress-site.ts';

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

  it('keeps synced photos out of public media listings, yet shows them as avatars', async () => {
    const [person] = generateUsers(1, 63);
    harness = await startSyncHarness([person!]);
    harness.graph.tenant.setPhoto(person!.id, png);
    await harness.writeConfig({ avatar: { enabled: true, size: '96x96' } });
    expect((await run()).code).toBe(0);
    const { attachment, url } = await avatarState(String(person!.mail));
    expect(attachment).toBeGreaterThan(0);
    const { restUrl, url: siteUrl } = harness.site;

    // Anonymous: no listing or search finds the photo, by the old file name, the object id or at all.
    for (const search of ['entra-photo', person!.id, 'avatar']) {
      const response = await fetch(`${restUrl}wp/v2/media?search=${encodeURIComponent(search)}`);
      expect([search, response.status, await response.json()]).toEqual([search, 200, []]);
    }
    expect(await (await fetch(`${restUrl}wp/v2/media`)).json()).toEqual([]);
    expect((await fetch(`${restUrl}wp/v2/media/${attachment}`)).status).toBe(404);
    // Its attachment page is not found, rather than redirected to the photo's own address.
    const page = await fetch(`${siteUrl}/?attachment_id=${attachment}`, { redirect: 'manual' });
    expect([page.status, page.headers.get('location')]).toEqual([404, null]);
    // Nor does the file name say whose it is.
    const file = await runPhpOnSite(`echo basename(get_attached_file(${attachment}));`);
    expect(file).toMatch(/^avatar-[0-9a-f]{16}\.png$/);

    // The avatar still shows: its URL is the photo's, and anyone can load it.
    const photoUrl = await runPhpOnSite(`echo wp_get_attachment_image_url(${attachment}, [96, 96]);`);
    expect(url).toBe(photoUrl);
    expect((await fetch(url)).status).toBe(200);
    // The tool sees the photo and its mark.
    const asAdmin = await fetch(
      `${restUrl}wp/v2/media/${attachment}?context=edit&_fields=id,entra_wp_sync_photo`,
      {
        headers: adminHeaders(harness.site),
      },
    );
    expect(await asAdmin.json()).toEqual({ id: attachment, entra_wp_sync_photo: true });
  });

  it('deletes only photos it uploaded: an avatar id pointed at another attachment leaves that attachment', async () => {
    const [leaving, changing] = generateUsers(2, 64);
    harness = await startSyncHarness([leaving!, changing!]);
    for (const person of [leaving!, changing!]) harness.graph.tenant.setPhoto(person.id, png);
    await harness.writeConfig({ avatar: { enabled: true, size: '96x96' } });
    expect((await run()).code).toBe(0);
    // An administrator points both avatars at images of a page.
    const images = JSON.parse(
      await runPhpOnSite(`
        $page = wp_insert_post(['post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'Our team']);
        $images = [];
        foreach (['${leaving!.mail}', '${changing!.mail}'] as $email) {
          $image = wp_insert_attachment(['post_mime_type' => 'image/png', 'post_title' => 'Team', 'post_status' => 'inherit'], false, $page);
          update_user_meta(get_user_by('email', $email)->ID, 'entra_wp_sync_avatar_id', $image);
          $images[] = $image;
        }
        echo json_encode($images);
      `),
    ) as number[];

    harness.graph.tenant.removePhoto(leaving!.id);
    harness.graph.tenant.setPhoto(changing!.id, png);
    const second = await run();
    expect(second.code).toBe(0);
    expect((await avatarState(String(leaving!.mail))).attachment).toBe(0);
    expect((await avatarState(String(changing!.mail))).attachment).not.toBe(images[1]);
    const left = await runPhpOnSite(
      `echo json_encode(array_map(fn($id) => get_post_type($id), ${JSON.stringify(images)}));`,
    );
    expect(left).toBe('["attachment","attachment"]');
    for (const image of images) {
      expect(second.stdout + second.stderr).toContain(`attachment ${image} was not uploaded by the sync`);
    }
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
