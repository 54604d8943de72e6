// Bundles the entry points the product ships: the GitHub Action (main and post) and the CLI.
import { fileURLToPath } from 'node:url';
import { bundleProduct } from './bundle.ts';

await bundleProduct(fileURLToPath(new URL('../dist', import.meta.url)));
