// Entra profile photos: the version (media etag) to detect changes, and the bytes.
import type { GraphApi } from './graph-api.ts';

export interface PhotoVersion {
  etag: string;
  contentType: string;
}

export function readPhotoBytes(api: GraphApi, objectId: string, size: string): Promise<Buffer | undefined> {
  return api.getBinary(`/users/${objectId}/photos/${size}/$value`);
}

interface BatchResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
}

/** Graph's JSON batching takes at most 20 requests. */
const batchSize = 20;
const itemAttempts = 4;

/**
 * Photo versions of many users, 20 per $batch request. Graph throttles each item on its
 * own and SDKs do not retry inside a batch, so throttled items are asked again after
 * their Retry-After. A user whose item fails for good gets an Error of their own.
 */
export async function readPhotoVersions(
  api: GraphApi,
  objectIds: readonly string[],
): Promise<Map<string, PhotoVersion | undefined | Error>> {
  const versions = new Map<string, PhotoVersion | undefined | Error>();
  for (let start = 0; start < objectIds.length; start += batchSize) {
    let pending = objectIds.slice(start, start + batchSize);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const answer = await api.post<{ responses?: BatchResponse[] }>(
        '/$batch',
        {
          requests: pending.map((id, index) => ({
            id: String(index),
            method: 'GET',
            url: `/users/${id}/photo`,
          })),
        },
        // Only GETs: Graph getting the batch twice changes nothing.
        { idempotent: true },
      );
      const retry: string[] = [];
      let waitSeconds = 0;
      for (const response of answer.responses ?? []) {
        const objectId = pending[Number(response.id)];
        if (objectId === undefined) continue;
        if (response.status === 200) {
          versions.set(objectId, {
            etag: String(response.body?.['@odata.mediaEtag'] ?? ''),
            contentType: String(response.body?.['@odata.mediaContentType'] ?? 'image/jpeg'),
          });
        } else if (response.status === 404) {
          versions.set(objectId, undefined);
        } else if ([429, 503, 504].includes(response.status) && attempt < itemAttempts) {
          retry.push(objectId);
          waitSeconds = Math.max(
            waitSeconds,
            Number(headerValue(response.headers, 'retry-after') ?? attempt),
          );
        } else {
          const error = response.body?.error as { code?: string; message?: string } | undefined;
          versions.set(
            objectId,
            new Error(
              `Graph answered ${response.status} for the photo of ${objectId}: ${error?.message ?? error?.code ?? 'no details'}`,
            ),
          );
        }
      }
      for (const id of pending)
        if (!versions.has(id) && !retry.includes(id))
          versions.set(id, new Error(`Graph's batch had no answer for the photo of ${id}`));
      if (retry.length > 0)
        await new Promise((resolve) => setTimeout(resolve, Math.min(waitSeconds, 30) * 1000));
      pending = retry;
    }
  }
  return versions;
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}
