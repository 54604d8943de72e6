// Joins the companion plugin's parts (wordpress-plugin/src/, one file per concern) into the
// one file sites copy into wp-content/mu-plugins/ (node scripts/build-plugin.ts).
// With --check it writes nothing and exits 1 when the shipped file is not what the parts
// build to; test/wordpress-testbed/plugin-source.test.ts checks the same.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pluginSourceDir = fileURLToPath(new URL('../wordpress-plugin/src/', import.meta.url));
export const shippedPluginFile = fileURLToPath(
  new URL('../wordpress-plugin/entra-wp-sync.php', import.meta.url),
);

/** The part whose header (plugin headers, guards, constants) starts the shipped file. */
export const pluginLoader = 'entra-wp-sync.php';

/**
 * The parts in the order they are joined: the numbered sections of the plugin. The loader
 * requires them in this same order, so the parts loaded from src/ behave as the shipped file.
 */
export const pluginParts = [
  'features.php', // 1. Features
  'meta.php', // 2. User meta registered for REST, 2b. custom meta the site allows
  'rest-routes.php', // 3. REST namespace entra-wp-sync/v1
  'login-block.php', // 4. Disabled users are kept out
  'avatars.php', // 5. The synced Entra photo is the user's avatar
  'state-and-lease.php', // 6. Checkpoints and the run lock, kept in the site
  'batch.php', // 7. Users routes in /batch/v1
  'fast-creation.php', // 8. Cheaper user creation and deletion over REST
  'index-and-lookup.php', // 9. Compact user index and lookup
  'identity-history.php', // 10. What an account was before the sync knew it
  'multisite.php', // 11. Multisite networks
  'user-screens.php', // 12. Each person's Entra status in wp-admin
  'run-history.php', // 13. Run history
  'admin-screen.php', // 14. Users → Entra ID sync
  'site-approvals.php', // 15. Approving held lists from the site
  'notifications.php', // 16. No WordPress emails about the sync's own changes
] as const;

/** How every part begins; the build keeps the loader's guard and drops the parts' own. */
const partOpening = "<?php\n\ndefined( 'ABSPATH' ) || exit;\n\n";

const generatedNote = `/*
 * Generated file: do not edit it here. The plugin is developed in wordpress-plugin/src/,
 * one file per concern; edit those and run \`npm run build:plugin\`
 * (scripts/build-plugin.ts), which joins them into this file. The tests and
 * \`npm run check-dist\` fail while the two differ.
 */
`;

const requireLine = /^require __DIR__ \. '\/([a-z0-9-]+\.php)';$/;

class PluginBuildError extends Error {}

/** The loader up to the comment that introduces its require lines, after checking those lines. */
function loaderHeader(loader: string): string {
  const lines = loader.split('\n');
  const first = lines.findIndex((line) => requireLine.test(line));
  if (first < 0) throw new PluginBuildError(`${pluginLoader} requires none of the parts.`);
  const required = lines.slice(first).filter((line) => line !== '');
  const names = required.map((line) => requireLine.exec(line)?.[1]);
  if (names.some((name) => name === undefined) || names.join() !== pluginParts.join()) {
    throw new PluginBuildError(
      `${pluginLoader} must end with one require line per part, in the order of scripts/build-plugin.ts: ${pluginParts.join(', ')}.`,
    );
  }
  const comment = loader.lastIndexOf('\n/*', loader.indexOf(required[0]!));
  if (comment < 0) throw new PluginBuildError(`${pluginLoader}: no comment before its require lines.`);
  return loader.slice(0, comment).trimEnd();
}

/** A part's code without its opening tag and ABSPATH guard, which the loader's header carries. */
function partBody(name: string, text: string): string {
  if (!text.startsWith(partOpening)) {
    throw new PluginBuildError(
      `wordpress-plugin/src/${name} must begin with <?php, a blank line, defined( 'ABSPATH' ) || exit; and a blank line.`,
    );
  }
  return text.slice(partOpening.length).trimEnd();
}

/** The shipped file the parts in `sourceDir` build to. */
export function buildPlugin(sourceDir: string = pluginSourceDir): string {
  const onDisk = readdirSync(sourceDir).filter((name) => name.endsWith('.php'));
  const unlisted = onDisk.filter(
    (name) => name !== pluginLoader && !(pluginParts as readonly string[]).includes(name),
  );
  if (unlisted.length > 0) {
    throw new PluginBuildError(
      `wordpress-plugin/src/ has parts the build does not know: ${unlisted.join(', ')}. Add them to pluginParts in scripts/build-plugin.ts and require them in ${pluginLoader}.`,
    );
  }
  const read = (name: string) => readFileSync(join(sourceDir, name), 'utf8');
  const header = loaderHeader(read(pluginLoader));
  const docblockEnd = header.indexOf('\n */\n');
  if (!header.startsWith('<?php\n/**\n') || docblockEnd < 0) {
    throw new PluginBuildError(`${pluginLoader} must begin with <?php and the plugin header docblock.`);
  }
  const cut = docblockEnd + '\n */\n'.length;
  const head = `${header.slice(0, cut)}\n${generatedNote}${header.slice(cut)}`;
  return `${[head, ...pluginParts.map((name) => partBody(name, read(name)))].join('\n\n')}\n`;
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  try {
    const built = buildPlugin();
    if (!check) {
      writeFileSync(shippedPluginFile, built);
      console.log(`wrote ${shippedPluginFile}`);
    } else if (readFileSync(shippedPluginFile, 'utf8') !== built) {
      console.error(
        'wordpress-plugin/entra-wp-sync.php is not what wordpress-plugin/src/ builds to. Edit the parts in wordpress-plugin/src/, then run `npm run build:plugin` and commit both.',
      );
      process.exitCode = 1;
    } else {
      console.log('wordpress-plugin/entra-wp-sync.php matches wordpress-plugin/src/.');
    }
  } catch (error) {
    if (!(error instanceof PluginBuildError)) throw error;
    console.error(`scripts/build-plugin.ts: ${error.message}`);
    process.exitCode = 1;
  }
}
