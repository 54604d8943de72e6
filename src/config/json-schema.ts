// The JSON Schema of jobs.yaml (draft-07, the version YAML language servers understand), generated
// from the zod definition so validation, types and editor help cannot drift apart.
import { z } from 'zod';
import { jobsFileSchema } from './schema.ts';

/** An identifier for the schema, not a download location: editors find it through the modeline. */
export const jobsSchemaId = 'https://entra-wp-sync.invalid/schema/jobs.schema.json';

// A value such as tenantId: ${AZURE_TENANT_ID} is only checked after substitution, so the editor must
// not flag it for failing the GUID pattern.
const envReference = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\\}' };

export function jobsJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(jobsFileSchema, {
    target: 'draft-07',
    io: 'input',
    override: ({ jsonSchema, path }) => {
      if (jsonSchema.type !== 'string' || (!jsonSchema.pattern && !jsonSchema.format)) return;
      if (path.includes('propertyNames')) return; // keys are never substituted
      const { description, default: fallback, ...constraint } = jsonSchema;
      for (const key of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[key];
      Object.assign(jsonSchema, {
        ...(description === undefined ? {} : { description }),
        ...(fallback === undefined ? {} : { default: fallback }),
        anyOf: [constraint, envReference],
      });
    },
  }) as Record<string, unknown>;
  const { $schema: _ignored, ...rest } = generated;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: jobsSchemaId,
    title: 'entra-wp-sync jobs.yaml',
    ...rest,
  };
}

/** The text committed as schema/jobs.schema.json. */
export function renderJobsJsonSchema(): string {
  return `${JSON.stringify(jobsJsonSchema(), null, 2)}\n`;
}
