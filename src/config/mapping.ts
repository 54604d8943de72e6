// Mappings say where a WordPress field's value comes from in an Entra user:
//   an attribute path   mail | onPremisesExtensionAttributes.extensionAttribute1
//                       | identities[signInType=emailAddress].issuerAssignedId
//   a template          "{givenName} {surname}"   ({{ and }} are literal braces)
//   a list of those     the first one that gives a non-empty value
// They are parsed once at config load so a typo is reported with its line, not mid-run.

/** One step of an attribute path; `where` picks the element of an array whose `key` equals `equals`. */
export type PathSegment = { name: string; where?: { key: string; equals: string } };
export type PathMapping = { kind: 'path'; text: string; segments: PathSegment[] };
export type TemplatePart = { kind: 'text'; text: string } | PathMapping;
export type TemplateMapping = { kind: 'template'; text: string; parts: TemplatePart[] };
export type FirstMapping = { kind: 'first'; options: (PathMapping | TemplateMapping)[] };
export type Mapping = PathMapping | TemplateMapping | FirstMapping;

/** What a jobs.yaml file may write for a mapping. */
export type MappingText = string | string[];

export class MappingSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingSyntaxError';
  }
}

const segmentPattern = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[([A-Za-z_][A-Za-z0-9_]*)=([^\]]+)\])?$/;

/** Parses a mapping as written in jobs.yaml; throws MappingSyntaxError saying what is wrong. */
export function parseMapping(text: MappingText): Mapping {
  if (Array.isArray(text)) {
    if (text.length === 0) throw new MappingSyntaxError('a list of mappings needs at least one entry');
    return { kind: 'first', options: text.map(parseSingle) };
  }
  return parseSingle(text);
}

function parseSingle(text: string): PathMapping | TemplateMapping {
  return text.includes('{') || text.includes('}') ? parseTemplate(text) : parsePath(text);
}

export function parsePath(text: string): PathMapping {
  const trimmed = text.trim();
  if (trimmed === '') throw new MappingSyntaxError('an attribute path cannot be empty');
  const segments: PathSegment[] = [];
  // Split on dots outside [...] so a filter value may contain a dot (issuer=contoso.com).
  for (const raw of splitOutsideBrackets(trimmed)) {
    if (segments.length === 0 && /^extension_/i.test(raw) && !extensionAttributePattern.test(raw)) {
      throw new MappingSyntaxError(
        `"${text}" is not a directory extension attribute: write extension_<the client ID of the application that owns it, without dashes>_<name>, e.g. extension_b7d8e648520f41d3b9c0fdeb91768a0a_costCenter (the Entra admin center lists it under the app's "Directory extensions")`,
      );
    }
    const match = segmentPattern.exec(raw);
    if (!match) {
      throw new MappingSyntaxError(
        `"${text}" is not an attribute path: "${raw}" should be a name like mail or identities[signInType=emailAddress]` +
          ' (to combine attributes with text use a template such as "{givenName} {surname}")',
      );
    }
    const [, name, key, equals] = match;
    segments.push(key && equals ? { name: name!, where: { key, equals: equals.trim() } } : { name: name! });
  }
  checkDirectoryPath(text, segments);
  return { kind: 'path', text: trimmed, segments };
}

/** extension_<application (client) ID without dashes>_<name>, as Graph names them. */
const extensionAttributePattern = /^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$/;

/** What a mapping can read of the manager relationship (the sync reads nothing else of it). */
export const managerPaths = {
  /** The manager's Entra object ID, from $expand=manager($select=id). */
  objectId: 'manager.id',
  /** The WordPress user ID of the manager's account, found by the sync's object-ID meta. */
  wordpressUserId: 'manager.wordpressUserId',
} as const;

function checkDirectoryPath(text: string, segments: PathSegment[]): void {
  const [first, second] = segments;
  if (first?.name === 'manager') {
    const path = segments.map((segment) => segment.name).join('.');
    if (
      segments.length !== 2 ||
      first.where ||
      second?.where ||
      !Object.values(managerPaths).includes(path as never)
    ) {
      throw new MappingSyntaxError(
        `"${text}" cannot be read: of the manager, map ${managerPaths.objectId} (their Entra object ID) or ${managerPaths.wordpressUserId} (the WordPress user ID of their synced account)`,
      );
    }
  }
  if (
    first?.name === 'onPremisesExtensionAttributes' &&
    second &&
    !/^extensionAttribute(?:[1-9]|1[0-5])$/.test(second.name)
  ) {
    throw new MappingSyntaxError(
      `"${text}" is not one of the on-premises extension attributes: they are onPremisesExtensionAttributes.extensionAttribute1 to extensionAttribute15`,
    );
  }
}

function splitOutsideBrackets(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '[') depth++;
    if (char === ']') depth--;
    if (char === '.' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function parseTemplate(text: string): TemplateMapping {
  const parts: TemplatePart[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    const next = text[index + 1];
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      literal += char;
      index += 2;
      continue;
    }
    if (char === '}')
      throw new MappingSyntaxError(`template "${text}" has a "}" without "{" (write }} for a literal brace)`);
    if (char === '{') {
      const end = text.indexOf('}', index);
      if (end < 0) throw new MappingSyntaxError(`template "${text}" has a "{" that is never closed`);
      if (literal) parts.push({ kind: 'text', text: literal });
      literal = '';
      const inner = text.slice(index + 1, end);
      if (inner.trim() === '') throw new MappingSyntaxError(`template "${text}" has an empty placeholder {}`);
      parts.push(parsePath(inner));
      index = end + 1;
      continue;
    }
    literal += char;
    index++;
  }
  if (literal) parts.push({ kind: 'text', text: literal });
  if (!parts.some((part) => part.kind === 'path')) {
    throw new MappingSyntaxError(`template "${text}" has no {attribute} placeholder`);
  }
  return { kind: 'template', text, parts };
}

/** Top-level Graph user attributes a mapping reads, for `$select`. */
export function attributesOf(mapping: Mapping): string[] {
  const names = new Set<string>();
  const visit = (item: Mapping | TemplatePart): void => {
    if (item.kind === 'path') names.add(item.segments[0]!.name);
    else if (item.kind === 'template') item.parts.forEach(visit);
    else if (item.kind === 'first') item.options.forEach(visit);
  };
  visit(mapping);
  return [...names];
}

type MapOfMappings = { meta: Record<string, Mapping> } & Record<string, unknown>;

function mappingsOf(map: MapOfMappings): Mapping[] {
  return Object.entries(map).flatMap(([field, value]) =>
    field === 'meta' ? Object.values(map.meta) : value ? [value as Mapping] : [],
  );
}

/**
 * Union of attributesOf over every mapping of a job's map (fields and meta), sorted: what
 * the job puts in $select. The manager is a relationship, read with $expand instead.
 */
export function attributesOfMap(map: MapOfMappings): string[] {
  const names = new Set<string>();
  for (const mapping of mappingsOf(map)) for (const name of attributesOf(mapping)) names.add(name);
  names.delete('manager');
  return [...names].sort();
}

/** Whether any mapping of the map reads the manager (so listings expand it). */
export function mapReadsManager(map: MapOfMappings): boolean {
  return mappingsOf(map).some((mapping) => attributesOf(mapping).includes('manager'));
}

/** Whether a mapping is exactly manager.wordpressUserId, the one form the sync fills in itself. */
export function isManagerUserIdMapping(mapping: Mapping): boolean {
  return mapping.kind === 'path' && mapping.text === managerPaths.wordpressUserId;
}

/** What a job gets for a WordPress field its `map` does not mention. */
export const defaultMapping = {
  user_login: 'userPrincipalName',
  user_email: [
    'mail',
    'otherMails',
    'identities[signInType=emailAddress].issuerAssignedId',
    'userPrincipalName',
  ],
  first_name: 'givenName',
  last_name: 'surname',
  display_name: ['displayName', '{givenName} {surname}'],
  nickname: ['mailNickname', 'givenName'],
} as const satisfies Record<string, MappingText>;
