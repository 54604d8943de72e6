// Rewrites the README's table of environment variables from src/config/environment.ts
// (node scripts/generate-environment-reference.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { renderEnvironmentReference, withEnvironmentReference } from './environment-reference.ts';

const readme = new URL('../README.md', import.meta.url);
await writeFile(
  readme,
  withEnvironmentReference(await readFile(readme, 'utf8'), renderEnvironmentReference()),
);
console.log(`wrote ${readme.pathname}`);
