// Writes schema/jobs.schema.json from the zod definition (node scripts/generate-schema.ts).
// test/config/json-schema.test.ts fails when the committed file is stale.
import { mkdir, writeFile } from 'node:fs/promises';
import { renderConfigReference } from '../src/config/config-reference.ts';
import { renderJobsJsonSchema } from '../src/config/json-schema.ts';

const target = new URL('../schema/jobs.schema.json', import.meta.url);
await mkdir(new URL('.', target), { recursive: true });
await writeFile(target, renderJobsJsonSchema());
console.log(`wrote ${target.pathname}`);

const reference = new URL('../docs/configuration.md', import.meta.url);
await writeFile(reference, renderConfigReference());
console.log(`wrote ${reference.pathname}`);
