// The esbuild settings of the product's bundles, shared by `npm run build` (dist/) and
// the bench (which bundles the CLI from the current source into a temporary folder).
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// @actions/core is ESM-only while nodemailer and others are CommonJS; an ESM bundle
// needs a real `require` for the CommonJS parts ("Dynamic require of 'os'").
const banner = [
  "import { createRequire as __entraWpSyncCreateRequire } from 'node:module';",
  'const require = __entraWpSyncCreateRequire(import.meta.url);',
].join('\n');

const source = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

export const productEntryPoints = {
  index: source('action/index.ts'),
  // The action's post step (action.yml `post:`): releases locks a killed run left behind.
  post: source('action/post.ts'),
  cli: source('cli/index.ts'),
};

/** Bundles the entry points (default: the action and the CLI) into `outdir`. */
export async function bundleProduct(
  outdir: string,
  entryPoints: Partial<typeof productEntryPoints> = productEntryPoints,
): Promise<void> {
  await build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    banner: { js: banner },
    legalComments: 'none',
    logLevel: 'warning',
    // Keeps dist/ diffs readable and the check-dist workflow meaningful.
    minify: false,
    sourcemap: false,
  });
}
