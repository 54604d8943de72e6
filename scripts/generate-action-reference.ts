// Rewrites the README's tables of the action's inputs and outputs from
// src/action/action-metadata.ts (node scripts/generate-action-reference.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { renderActionReference, withActionReference } from './action-reference.ts';

const readme = new URL('../README.md', import.meta.url);
await writeFile(readme, withActionReference(await readFile(readme, 'utf8'), renderActionReference()));
console.log(`wrote ${readme.pathname}`);
