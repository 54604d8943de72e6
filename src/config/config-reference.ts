// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration syntax being documented.
// docs/configuration.md: every key of jobs.yaml with its type, default and description,
// walked from the same JSON Schema editors use, so the reference cannot fall behind.
import { jobsJsonSchema } from './json-schema.ts';

type Schema = Record<string, unknown>;

export function renderConfigReference(): string {
  const rows: string[] = [];
  walk(jobsJsonSchema(), '', rows);
  return [
    '# jobs.yaml reference',
    '',
    'Generated from the configuration schema (`node scripts/generate-schema.ts`); do not edit by hand.',
    '`${VAR}` in any value is replaced from the environment. `jobs[]` entries may override `graph` and `wordpress`.',
    '',
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function walk(schema: Schema, path: string, rows: string[]): void {
  const variants = [
    ...((schema.anyOf as Schema[] | undefined) ?? []),
    ...((schema.oneOf as Schema[] | undefined) ?? []),
  ];
  const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
  if (path && !(path === '$schema')) {
    rows.push(
      `| \`${path}\` | ${typeOf(schema)} | ${defaultOf(schema)} | ${cell(String(schema.description ?? ''))} |`,
    );
  }
  for (const [key, child] of Object.entries(properties)) walk(child, path ? `${path}.${key}` : key, rows);
  const items = schema.items as Schema | undefined;
  if (items?.properties) walk({ ...items, description: undefined }, `${path}[]`, rows);
  for (const variant of variants) {
    if (variant.properties) walk({ ...variant, description: undefined }, path, rows);
  }
}

function typeOf(schema: Schema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (schema.const !== undefined) return `\`${String(schema.const)}\``;
  const variants = (schema.anyOf as Schema[] | undefined) ?? (schema.oneOf as Schema[] | undefined);
  if (variants) return [...new Set(variants.map(typeOf))].join(' \\| ');
  if (schema.type === 'array') return `list of ${typeOf((schema.items as Schema | undefined) ?? {})}`;
  return String(schema.type ?? 'object');
}

function defaultOf(schema: Schema): string {
  return schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
