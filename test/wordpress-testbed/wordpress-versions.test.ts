// The test bed runs each WordPress release scripts/wordpress-core.ts knows: bookworm's own
// package (6.1), trixie's (6.8) and sid's (7.1 or later), the newer two fetched from Debian
// once into ~/.cache/entra-wp-sync/wordpress. Each gets a bed of its own (about 2.5 s).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWordPressCore, type WordPressCore } from '../../scripts/wordpress-core.ts';
import { startWordPressStack, type WordPressStack } from '../support/wordpress/index.ts';
import { adminHeaders } from '../support/wordpress-site.ts';

/** [major, minor] a release's WordPress is at least, and (for a stable release) exactly. */
const expected = [
  { release: 'bookworm', atLeast: [6, 1], stable: true },
  { release: 'trixie', atLeast: [6, 8], stable: true },
  // sid moves on: 7.1 when this was written.
  { release: 'sid', atLeast: [7, 1], stable: false },
] as const;

const majorMinor = (version: string): [number, number] => {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return [major, minor];
};

describe.each(expected)('WordPress from Debian $release', ({ release, atLeast, stable }) => {
  let core: WordPressCore;
  let stack: WordPressStack;

  beforeAll(async () => {
    // A first run on a machine fetches trixie's and sid's packages (~8 s each).
    core = await ensureWordPressCore(release, { log: () => {} });
    stack = await startWordPressStack({ sites: 1, coreDir: core.coreDir });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('is the version expected of the release, and the stack records it', () => {
    const [major, minor] = majorMinor(core.version);
    if (stable) expect([major, minor]).toEqual(atLeast);
    else expect(major * 100 + minor).toBeGreaterThanOrEqual(atLeast[0] * 100 + atLeast[1]);
    expect(stack.descriptor.wordpress).toEqual({
      version: core.version,
      release,
      packageVersion: core.packageVersion,
      coreDir: core.coreDir,
    });
    expect(core.packageVersion).toMatch(new RegExp(`^${core.version.replace(/\./g, '\\.')}\\+dfsg`));
  });

  it('serves that version: the feed names it, the REST index and the companion plugin answer', async () => {
    const site = stack.sites[0]!;
    const feed = await fetch(`${site.url}/?feed=rss2`);
    expect(feed.status).toBe(200);
    expect(await feed.text()).toContain(`<generator>https://wordpress.org/?v=${core.version}</generator>`);

    const index = await fetch(site.restUrl);
    expect(index.status).toBe(200);
    const body = (await index.json()) as { name: string; namespaces: string[] };
    expect(body.name).toBe('Entra WP Sync test site');
    expect(body.namespaces).toEqual(expect.arrayContaining(['wp/v2', 'entra-wp-sync/v1']));

    // The administrator's application password (hashed differently since 6.8) works.
    const info = await fetch(`${site.restUrl}entra-wp-sync/v1/info`, { headers: adminHeaders(site) });
    expect(info.status).toBe(200);
    expect(((await info.json()) as { features: string[] }).features).toContain('batch-users');
  });

  it("loads the files Debian's package links in from other packages (getID3, PHPMailer)", async () => {
    const out = await stack.runPhp(
      0,
      `require_once ABSPATH . WPINC . '/ID3/getid3.php';
       require_once ABSPATH . WPINC . '/PHPMailer/PHPMailer.php';
       echo json_encode( array( get_bloginfo( 'version' ), class_exists( 'getID3' ), PHPMailer\\PHPMailer\\PHPMailer::VERSION ) );`,
    );
    const [version, getid3, phpMailer] = JSON.parse(out) as [string, boolean, string];
    expect(version).toBe(core.version);
    expect(getid3).toBe(true);
    expect(phpMailer).toMatch(/^\d+\.\d+/);
  });
});
