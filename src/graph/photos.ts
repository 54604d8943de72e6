// Entra profile photos: the version (media etag) to detect changes, and the bytes.
import type { GraphApi } from './graph-api.ts';
import { GraphRequestError } from './graph-api.ts';

export interface PhotoVersion {
  etag: string;
  contentType: string;
}

/** undefined when the user has no photo (a 404, whatever its error code). */
export async function readPhotoVersion(api: GraphApi, objectId: string): Promise<PhotoVersion | undefined> {
  try {
    const metadata = await api.get<Record<string, unknown>>(`/users/${objectId}/photo`);
    return {
      etag: String(metadata['@odata.mediaEtag'] ?? ''),
      contentType: String(metadata['@odata.mediaContentType'] ?? 'image/jpeg'),
    };
  } catch (error) {
    if (error instanceof GraphRequestError && error.status === 404) return undefined;
    throw error;
  }
}

export function readPhotoBytes(api: GraphApi, objectId: string, size: string): Promise<Buffer | undefined> {
  return api.getBinary(`/users/${objectId}/photos/${size}/$value`);
}
