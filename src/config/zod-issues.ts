// Turns zod issues into sentences a person can act on: what is allowed, what was given, and a
// "did you mean" when a key or value is a likely typo.
import type { z } from 'zod';
import { closestMatch } from './guards.ts';
import { formatKeyPath, type KeyPath } from './source-position.ts';

export type DescribedIssue = { path: KeyPath; at: 'key' | 'value'; message: string };

type Issue = z.core.$ZodIssue;

export type DescribeContext = {
  schema: z.ZodType;
  /** The parsed document, to quote what was given. */
  data: unknown;
  /** Paths whose values came from environment variables: never quoted, they may be secrets. */
  substituted: ReadonlyMap<string, string[]>;
};

export function describeIssues(issues: readonly Issue[], context: DescribeContext): DescribedIssue[] {
  const described = issues.flatMap((issue) => describeIssue(issue, [], context));
  // "domains is required" adds nothing next to 'unknown key "domain"; did you mean "domains"?'.
  const suggested = new Set(
    described.flatMap((item) =>
      item.suggests ? [formatKeyPath([...item.path.slice(0, -1), item.suggests])] : [],
    ),
  );
  return described
    .filter((item) => !(item.missing && suggested.has(formatKeyPath(item.path))))
    .map(({ path, at, message }) => ({ path, at, message }));
}

type Described = DescribedIssue & { suggests?: string; missing?: boolean };

function describeIssue(issue: Issue, base: KeyPath, context: DescribeContext): Described[] {
  const path = [...base, ...issue.path];
  const got = () => describeGiven(path, context);
  switch (issue.code) {
    case 'invalid_type': {
      const given = valueAt(context.data, path);
      if (given === undefined) {
        return [{ path, at: 'key', missing: true, message: `is required (${expectedType(issue.expected)})` }];
      }
      return [{ path, at: 'value', message: `must be ${expectedType(issue.expected)} (got ${got()})` }];
    }
    case 'invalid_value': {
      const given = valueAt(context.data, path);
      const allowed = issue.values.map((value) => String(value));
      const suggestion = typeof given === 'string' ? closestMatch(given, allowed) : undefined;
      const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
      return [{ path, at: 'value', message: `${expectedValues(issue.values)} (got ${got()}${hint})` }];
    }
    case 'too_small':
    case 'too_big':
      return [{ path, at: 'value', message: `${sizeMessage(issue)} (got ${got()})` }];
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(context.schema, path);
      return issue.keys.map((key) => {
        const suggestion = closestMatch(key, allowed);
        const message = suggestion
          ? `unknown key "${key}"; did you mean "${suggestion}"?`
          : `unknown key "${key}"; allowed keys: ${allowed.join(', ')}`;
        return {
          path: [...path, key],
          at: 'key' as const,
          message,
          ...(suggestion ? { suggests: suggestion } : {}),
        };
      });
    }
    case 'invalid_union':
      return describeUnion(issue, path, context);
    case 'invalid_key': {
      const reasons = issue.issues.map((inner) => inner.message).join('; ');
      return [{ path, at: 'key', message: `key "${String(path.at(-1))}" is not allowed: ${reasons}` }];
    }
    case 'invalid_element':
      return issue.issues.flatMap((inner) => describeIssue(inner, path, context));
    case 'invalid_format':
      return [{ path, at: 'value', message: `${issue.message} (got ${got()})` }];
    default:
      return [{ path, at: 'value', message: issue.message }];
  }
}

/**
 * A union failed every option. When exactly one option got past the type check (the value has the
 * right shape), its issues are the useful ones; otherwise say which shapes are allowed.
 */
function describeUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: KeyPath,
  context: DescribeContext,
): Described[] {
  const wrongShape = (inner: Issue) =>
    inner.path.length === 0 && (inner.code === 'invalid_type' || inner.code === 'invalid_value');
  const viable = issue.errors.filter((branch) => !branch.some(wrongShape));
  if (viable.length === 1) return viable[0]!.flatMap((inner) => describeIssue(inner, path, context));
  const options = issue.errors.flatMap((branch) => branch.filter(wrongShape).map(optionText));
  const unique = [...new Set(options)];
  const allowed = unique.length ? `must be ${unique.join(' or ')}` : issue.message;
  return [{ path, at: 'value', message: `${allowed} (got ${describeGiven(path, context)})` }];
}

function optionText(issue: Issue): string {
  if (issue.code === 'invalid_type') return expectedType(issue.expected);
  if (issue.code === 'invalid_value') return issue.values.map((value) => JSON.stringify(value)).join(' or ');
  return issue.message;
}

function expectedType(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping of keys to values',
    record: 'a mapping of keys to values',
  };
  return names[expected] ?? expected;
}

function expectedValues(values: readonly unknown[]): string {
  if (values.length === 1) return `must be ${JSON.stringify(values[0])}`;
  return `must be one of ${values.map((value) => String(value)).join(', ')}`;
}

function sizeMessage(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  if (issue.origin === 'array' || issue.origin === 'set') {
    return small
      ? `needs at least ${limit} ${limit === 1 ? 'entry' : 'entries'}`
      : `allows at most ${limit} entries`;
  }
  if (issue.origin === 'string') {
    if (small && limit === 1) return 'must not be empty';
    return small ? `needs at least ${limit} characters` : `allows at most ${limit} characters`;
  }
  if (small) return inclusive ? `must be at least ${limit}` : `must be greater than ${limit}`;
  return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
}

function describeGiven(path: KeyPath, context: DescribeContext): string {
  for (let length = path.length; length > 0; length--) {
    const variables = context.substituted.get(formatKeyPath(path.slice(0, length)));
    if (variables) return `the value of ${variables.map((name) => `\${${name}}`).join(', ')}`;
  }
  const value = valueAt(context.data, path);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
};

const defOf = (schema: z.ZodType): Def => schema._zod.def as unknown as Def;

/** Strips optional/default/pipe wrappers down to the schema that says what the value is. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!inner) return current;
    current = inner;
  }
}

/** Keys allowed by the object schema at `path`, for "did you mean" suggestions. */
export function allowedKeysAt(schema: z.ZodType, path: KeyPath): string[] {
  let candidates = [unwrap(schema)];
  for (const segment of path) {
    candidates = candidates.flatMap((candidate) => {
      const def = defOf(candidate);
      if (def.type === 'union') return def.options!.map(unwrap).flatMap((option) => step(option, segment));
      return step(candidate, segment);
    });
  }
  const keys = candidates.flatMap((candidate) => {
    const def = defOf(candidate);
    const objects = def.type === 'union' ? def.options!.map(unwrap) : [candidate];
    return objects.flatMap((object) => Object.keys(defOf(object).shape ?? {}));
  });
  return [...new Set(keys)];
}

function step(schema: z.ZodType, segment: PropertyKey): z.ZodType[] {
  const def = defOf(schema);
  const next =
    def.type === 'object'
      ? def.shape?.[String(segment)]
      : def.type === 'array'
        ? def.element
        : def.type === 'record'
          ? def.valueType
          : undefined;
  return next ? [unwrap(next)] : [];
}
