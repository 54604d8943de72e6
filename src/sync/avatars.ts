// SPEC §2 `avatar`: the Entra photo becomes the WordPress avatar. It is uploaded once
// and replaced only when its media etag changes; photo versions are read 20 users per
// Graph $batch so they do not dominate a run. Users without a photo keep WordPress's default avatar.
import pLimit from 'p-limit';
import { describeError } from '../errors.ts';
import type { GraphApi } from '../graph/graph-api.ts';
import { type PhotoVersion, readPhotoBytes, readPhotoVersions } from '../graph/photos.ts';
import type { Logger } from '../log/logger.ts';
import { metaKeys } from '../wordpress/meta-keys.ts';
import { FileUpload, type WordPressClient } from '../wordpress/rest-client.ts';
import type { UserWrites } from '../wordpress/user-writes.ts';
import type { WordPressUser } from '../wordpress/wordpress-user.ts';
import type { WordPressUserIndex } from './user-index.ts';

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

export async function syncAvatars(
  people: ReadonlyArray<{ objectId: string; user: WordPressUser }>,
  context: AvatarContext,
): Promise<AvatarOutcome> {
  const limit = pLimit(context.concurrency);
  const outcome: AvatarOutcome = { uploaded: 0, cleared: 0, failed: [] };
  const versions = await readPhotoVersions(
    context.graph,
    people.map((person) => person.objectId),
  );
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
    await deleteAttachment(context.wordpress, storedAttachment);
    return 'cleared';
  }
  if (storedAttachment && version.etag === storedEtag) return 'unchanged';
  const bytes = await readPhotoBytes(context.graph, objectId, context.size);
  if (!bytes) return 'unchanged';
  const extension = version.contentType.includes('png') ? 'png' : 'jpg';
  const media = await context.wordpress.request<{ id: number }>('POST', '/wp/v2/media', {
    body: new FileUpload(bytes, version.contentType, `entra-photo-${objectId}.${extension}`),
    query: { _fields: 'id' },
  });
  context.index.put(
    await context.writes.update(user.id, {
      meta: { [metaKeys.avatarId]: media.data.id, [metaKeys.photoEtag]: version.etag },
    }),
  );
  if (storedAttachment) await deleteAttachment(context.wordpress, storedAttachment);
  return 'uploaded';
}

async function deleteAttachment(wordpress: WordPressClient, id: number): Promise<void> {
  await wordpress.request('DELETE', `/wp/v2/media/${id}`, { query: { force: true } }).catch(() => undefined);
}
