// The `map` section of a job: WordPress field ← Entra value (see mapping.ts for the syntax).
import { z } from 'zod';
import { reservedMetaKeyReason } from './guards.ts';
import {
  attributesOf,
  isManagerUserIdMapping,
  type Mapping,
  MappingSyntaxError,
  type MappingText,
  managerPaths,
  parseMapping,
} from './mapping.ts';

export const metaKeyPattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;

export const mappingSchema = z
  .union([z.string(), z.array(z.string()).min(1)])
  .superRefine((value, ctx) => {
    try {
      parseMapping(value);
    } catch (error) {
      if (!(error instanceof MappingSyntaxError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message, input: value });
    }
  })
  .meta({
    id: 'Mapping',
    description:
      'An Entra attribute path (mail, onPremisesExtensionAttributes.extensionAttribute1, ' +
      'identities[signInType=emailAddress].issuerAssignedId), a template ("{givenName} {surname}"), ' +
      'or a list of those: the first non-empty value wins.',
  });

const metaKey = z
  .string()
  .regex(metaKeyPattern, {
    abort: true,
    error: (issue) =>
      reservedMetaKeyReason(String(issue.input)) ??
      'meta keys must start with a letter or digit and contain only letters, digits, "_" and "-"',
  })
  .superRefine((key, ctx) => {
    const reason = reservedMetaKeyReason(key);
    if (reason) ctx.addIssue({ code: 'custom', message: reason, input: key });
  });

const fieldMapping = (text: string) => mappingSchema.optional().describe(text);

export const mapSettings = z
  .strictObject({
    user_login: fieldMapping('Username. Default: userPrincipalName.'),
    user_email: fieldMapping(
      'Email. Default: [mail, otherMails, identities[signInType=emailAddress].issuerAssignedId, userPrincipalName].',
    ),
    first_name: fieldMapping('First name. Default: givenName.'),
    last_name: fieldMapping('Last name. Default: surname.'),
    display_name: fieldMapping('Public display name. Default: [displayName, "{givenName} {surname}"].'),
    nickname: fieldMapping('Nickname. Default: [mailNickname, givenName].'),
    description: fieldMapping('Biographical info. Not synced unless mapped.'),
    url: fieldMapping('Website. Not synced unless mapped.'),
    locale: fieldMapping('User locale, e.g. from preferredLanguage. Not synced unless mapped.'),
    meta: z
      .record(metaKey, mappingSchema)
      .default({})
      .describe(
        'User meta key ← mapping. Keys starting with "_", capabilities, user levels, session tokens and the ' +
          "sync's own entra_wp_sync_* keys are refused.",
      ),
  })
  .superRefine((map, ctx) => {
    for (const [field, text] of Object.entries(map)) {
      const entries = field === 'meta' ? Object.entries(map.meta) : [[undefined, text] as const];
      for (const [key, value] of entries) {
        const reason = managerUserIdMisuse(value as MappingText | undefined, key !== undefined);
        if (reason)
          ctx.addIssue({ code: 'custom', path: key === undefined ? [field] : [field, key], message: reason });
      }
    }
  })
  .describe('WordPress field ← Entra value. Fields not mentioned keep their default mapping.');

/**
 * manager.wordpressUserId is no Entra attribute: the sync fills a meta key with it after
 * looking the manager up in WordPress, so it stands alone and only in meta.
 */
function managerUserIdMisuse(text: MappingText | undefined, inMeta: boolean): string | undefined {
  if (text === undefined) return undefined;
  let mapping: Mapping;
  try {
    mapping = parseMapping(text);
  } catch {
    return undefined; // mappingSchema reports it
  }
  const reads = (item: Mapping): boolean =>
    item.kind === 'path'
      ? item.text === managerPaths.wordpressUserId
      : item.kind === 'template'
        ? item.parts.some((part) => part.kind === 'path' && reads(part))
        : item.options.some(reads);
  if (!reads(mapping) || (inMeta && isManagerUserIdMapping(mapping))) return undefined;
  return inMeta
    ? `${managerPaths.wordpressUserId} must be the whole mapping of a meta key (not part of a template or list)`
    : `${managerPaths.wordpressUserId} can only be mapped to a meta key; for this field map ${managerPaths.objectId}, or another attribute`;
}

/** Whether a job's map (as written) reads the manager relationship. */
export function writtenMapReadsManager(map: Record<string, unknown> | undefined): boolean {
  if (!map) return false;
  const texts = Object.entries(map).flatMap(([field, value]) =>
    field === 'meta' && value && typeof value === 'object' ? Object.values(value) : [value],
  );
  return texts.some((text) => {
    try {
      return attributesOf(parseMapping(text as MappingText)).includes('manager');
    } catch {
      return false;
    }
  });
}
