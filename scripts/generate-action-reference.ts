// Rewrites the README's tables of the action's inputs and outputs from action.yml
// (node scripts/generate-action-reference.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { renderActionReference, withActionReference } from './action-reference.ts';

const readme = new URL('../README.md', import.meta.url);
const action = await readFile(new URL('../action.yml', import.meta.url), 'utf8');
await writeFile(readme, withActionReference(await readFile(readme, 'utf8'), renderActionReference(action)));
console.log(`wrote ${readme.pathname}`);
