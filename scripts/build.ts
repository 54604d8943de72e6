// Bundles the two entry points the product ships: the GitHub Action and the CLI.
import { fileURLToPath } from 'node:url';
import { bundleProduct } from './bundle.ts';

await bundleProduct(fileURLToPath(new URL('../dist', import.meta.url)));
