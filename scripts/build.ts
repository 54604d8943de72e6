// Bundles the two entry points the product ships: the GitHub Action and the CLI.
import { build } from 'esbuild';

// @actions/core is ESM-only while nodemailer and others are CommonJS; an ESM bundle
// needs a real `require` for the CommonJS parts ("Dynamic require of 'os'").
const banner = [
  "import { createRequire as __entraWpSyncCreateRequire } from 'node:module';",
  'const require = __entraWpSyncCreateRequire(import.meta.url);',
].join('\n');

await build({
  entryPoints: { index: 'src/action/index.ts', cli: 'src/cli/index.ts' },
  outdir: 'dist',
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
