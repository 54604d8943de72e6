// `avatar`: the Entra photo becomes the WordPress avatar. It is uploaded once
// and replaced only when its media etag changes; photo versions are read 20 users per
// Graph $batch so they do not dominate a run. Users without a photo keep WordPress's default avatar.
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { describeError } from '../errors.ts';
import type { GraphApi } from '../graph/graph-api.ts';
import { type PhotoVersion, readPhotoBytes, readPhotoVersions } from '../graph/photos.ts';
import type { Logger } from '../log/logger.ts';
import { metaKeys } from '../model/meta-keys.ts';
import type { WordPressUser } from '../model/wordpress-user.ts';
import type { WordPressUserIndex } from '../rules/user-index.ts';
import { FileUpload, type WordPressClient } from '../wordpress/rest-client.ts';
import type { UserWrites } from '../wordpress/user-writes.ts';

export interface AvatarContext {
  graph: GraphApi;
  wordpress: WordPressClient;
  writes: UserWrites;
  index: WordPressUserIndex;
  logger: Logger;
  size: string;
  /** Photo reads and uploads in flight at once. */
  concurrency: number;
}

export interface AvatarOutcome {
  uploaded: number;
  cleared: number;
  failed: string[];
}

export type PhotoVersions = Map<string, PhotoVersion | undefined | Error>;

/**
 * Starts reading the photo versions of a page's people, for syncAvatars: the page's user
 * writes go on while Graph answers. A failure comes out when syncAvatars awaits it.
 */
export function readPageVersions(graph: GraphApi, objectIds: readonly string[]): Promise<PhotoVersions> {
  const reading = readPhotoVersions(graph, objectIds);
  reading.catch(() => undefined);
  return reading;
}

/** `versions`: from readPageVersions, covering at least `people`. */
export async function syncAvatars(
  people: ReadonlyArray<{ objectId: string; user: WordPressUser }>,
  context: AvatarContext,
  versionsRead: Promise<PhotoVersions>,
): Promise<AvatarOutcome> {
  const limit = pLimit(context.concurrency);
  const outcome: AvatarOutcome = { uploaded: 0, cleared: 0, failed: [] };
  const versions = await versionsRead;
  await Promise.all(
    people.map(({ objectId, user }) =>
      limit(async () => {
        try {
          const version = versions.get(objectId);
          if (version instanceof Error) throw version;
          const change = await syncOne(objectId, user, version, context);
          if (change === 'uploaded') outcome.uploaded++;
          if (change === 'cleared') outcome.cleared++;
        } catch (error) {
          outcome.failed.push(user.username);
          context.logger.warn(`avatar of ${user.username} not synced: ${describeError(error)}`);
        }
      }),
    ),
  );
  return outcome;
}

async function syncOne(
  objectId: string,
  user: WordPressUser,
  version: PhotoVersion | undefined,
  context: AvatarContext,
): Promise<'uploaded' | 'cleared' | 'unchanged'> {
  const storedEtag = String(user.meta[metaKeys.photoEtag] ?? '');
  const storedAttachment = Number(user.meta[metaKeys.avatarId] ?? 0);
  if (!version) {
    if (!storedAttachment) return 'unchanged';
    context.index.put(
      await context.writes.update(user.id, { meta: { [metaKeys.avatarId]: 0, [metaKeys.photoEtag]: '' } }),
    );
    await deleteOwnAttachment(user, storedAttachment, context);
    return 'cleared';
  }
  if (storedAttachment && version.etag === storedEtag) return 'unchanged';
  const bytes = await readPhotoBytes(context.graph, objectId, context.size);
  if (!bytes) return 'unchanged';
  const extension = version.contentType.includes('png') ? 'png' : 'jpg';
  // Media file names are searchable, and public for some callers: the name says nothing of the person.
  const filename = `avatar-${randomBytes(8).toString('hex')}.${extension}`;
  const media = await context.wordpress.request<{ id: number }>('POST', '/wp/v2/media', {
    // The companion plugin marks the attachment as a sync photo, hidden from the public.
    body: new FileUpload(bytes, version.contentType, filename, { 'x-entra-wp-sync-photo': '1' }),
    query: { _fields: 'id' },
  });
  context.index.put(
    await context.writes.update(user.id, {
      meta: { [metaKeys.avatarId]: media.data.id, [metaKeys.photoEtag]: version.etag },
    }),
  );
  if (storedAttachment) await deleteOwnAttachment(user, storedAttachment, context);
  return 'uploaded';
}

/**
 * Deletes the user's previous photo, but only if the sync uploaded it: the avatar id
 * is user meta an administrator can point at any attachment of the site.
 */
async function deleteOwnAttachment(user: WordPressUser, id: number, context: AvatarContext): Promise<void> {
  const { wordpress, logger } = context;
  // A failed look-up or delete leaves the file behind, which costs only disk space.
  const marked = await wordpress
    .request<{ entra_wp_sync_photo?: boolean }>('GET', `/wp/v2/media/${id}`, {
      query: { context: 'edit', _fields: 'id,entra_wp_sync_photo' },
    })
    .then((response) => response.data.entra_wp_sync_photo === true)
    .catch(() => undefined);
  if (marked === undefined) return;
  if (!marked) {
    logger.warn(
      `avatar of ${user.username}: attachment ${id} was not uploaded by the sync, so it is left in place`,
    );
    return;
  }
  await wordpress.request('DELETE', `/wp/v2/media/${id}`, { query: { force: true } }).catch(() => undefined);
}
