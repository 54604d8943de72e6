// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration syntax, not a mistaken template.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { jobsJsonSchema, renderJobsJsonSchema } from '../../src/config/json-schema.ts';
import { loadConfig } from '../../src/config/load.ts';

const root = new URL('../../', import.meta.url);

describe('the JSON Schema of jobs.yaml', () => {
  it('is committed as schema/jobs.schema.json exactly as the generator writes it', async () => {
    const committed = await readFile(new URL('schema/jobs.schema.json', root), 'utf8');
    // Stale? Run: node scripts/generate-schema.ts
    expect(committed).toBe(renderJobsJsonSchema());
  });

  it('is a draft-07 schema with an id, a title and descriptions', () => {
    const schema = jobsJsonSchema();
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toEqual(expect.any(String));
    expect(schema.title).toEqual(expect.any(String));
    expect(schema.description).toEqual(expect.any(String));
    expect(schema).toHaveProperty('definitions.Mapping');
    expect(JSON.stringify(schema)).not.toContain('$defs');
  });

  it('gives every property a description', () => {
    const undocumented: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object') return;
      const properties = (node as { properties?: Record<string, unknown> }).properties ?? {};
      for (const [key, child] of Object.entries(properties)) {
        if (!(child as { description?: string }).description) undocumented.push(`${path}.${key}`);
        visit(child, `${path}.${key}`);
      }
      for (const [key, child] of Object.entries(node))
        if (key !== 'properties') visit(child, `${path}.${key}`);
    };
    visit(jobsJsonSchema(), '');
    expect(undocumented).toEqual([]);
  });

  it('lets an editor accept ${VAR} where a pattern is checked after substitution', () => {
    const graph = (jobsJsonSchema().properties as Record<string, { properties: Record<string, unknown> }>)
      .graph;
    expect(JSON.stringify(graph?.properties.tenantId)).toContain('\\\\$\\\\{');
  });
});

describe('jobs.example.yaml', () => {
  it('is a valid configuration once its environment variables are set', async () => {
    const env = {
      AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AZURE_CLIENT_ID: '0b5a3c1e-2f4d-4e6a-8b9c-1d2e3f4a5b6c',
      PARTNER_CLIENT_ID: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
    };
    const config = await loadConfig(new URL('jobs.example.yaml', root).pathname, env);
    expect(config.jobs.map((job) => job.name)).toEqual(['staff', 'partners']);
    expect(config.jobs[0]!.limits.maxRuntime).toBe(1800);
    expect(config.jobs[1]!.graph).toMatchObject({
      tenantId: 'partner.onmicrosoft.com',
      clientId: env.PARTNER_CLIENT_ID,
    });
  });

  it('names the schema in a yaml-language-server modeline', async () => {
    const text = await readFile(new URL('jobs.example.yaml', root), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schema/jobs.schema.json');
  });
});

describe('docs/configuration.md', () => {
  it('is committed exactly as generated from the schema and names every job key', async () => {
    const { renderConfigReference } = await import('../../src/config/config-reference.ts');
    const { readFile } = await import('node:fs/promises');
    const committed = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigReference());
    for (const key of [
      'jobs[].actions.delete',
      'jobs[].safety.maxDeletes',
      'jobs[].roles.rules[].group',
      'graph.tenantId',
      'state.backend',
    ]) {
      expect(committed).toContain(`\`${key}\``);
    }
  });
});
