// Reads a mapping's value out of an Entra user object (a job's `map`).
import type { Mapping, PathMapping, PathSegment, TemplateMapping } from '../config/mapping.ts';

/** The mapped text, or undefined when every source is empty. */
export function evaluateMapping(mapping: Mapping, user: Record<string, unknown>): string | undefined {
  switch (mapping.kind) {
    case 'path':
      return evaluatePath(mapping, user);
    case 'template':
      return evaluateTemplate(mapping, user);
    case 'first':
      for (const option of mapping.options) {
        const value = evaluateMapping(option, user);
        if (value !== undefined) return value;
      }
      return undefined;
  }
}

function evaluatePath(mapping: PathMapping, user: Record<string, unknown>): string | undefined {
  let values: unknown[] = [user];
  for (const segment of mapping.segments) values = values.flatMap((value) => step(value, segment));
  for (const value of values) {
    const text = scalarText(value);
    if (text !== undefined) return text;
  }
  return undefined;
}

function step(value: unknown, segment: PathSegment): unknown[] {
  if (typeof value !== 'object' || value === null) return [];
  const next = (value as Record<string, unknown>)[segment.name];
  // Arrays (otherMails, identities) contribute their elements in order.
  const items = Array.isArray(next) ? next : [next];
  if (!segment.where) return items;
  const { key, equals } = segment.where;
  return items.filter(
    (item) =>
      typeof item === 'object' &&
      item !== null &&
      String((item as Record<string, unknown>)[key]).toLowerCase() === equals.toLowerCase(),
  );
}

function evaluateTemplate(mapping: TemplateMapping, user: Record<string, unknown>): string | undefined {
  let text = '';
  let anyValue = false;
  for (const part of mapping.parts) {
    if (part.kind === 'text') {
      text += part.text;
      continue;
    }
    const value = evaluatePath(part, user);
    if (value !== undefined) anyValue = true;
    text += value ?? '';
  }
  // "{givenName} {surname}" with neither set is empty, not " ".
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return anyValue && trimmed !== '' ? trimmed : undefined;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
