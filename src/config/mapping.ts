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
  return { kind: 'path', text: trimmed, segments };
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

/** Union of attributesOf over every mapping of a job's map (fields and meta), sorted. */
export function attributesOfMap(map: { meta: Record<string, Mapping> } & Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const [field, value] of Object.entries(map)) {
    const mappings = field === 'meta' ? Object.values(map.meta) : [value as Mapping | undefined];
    for (const mapping of mappings) if (mapping) for (const name of attributesOf(mapping)) names.add(name);
  }
  return [...names].sort();
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
