// A real browser for tests of what people see in wp-admin: Debian's chromium (installed with
// the test bed's packages, scripts/with-node24.mjs) driven by playwright-core, which
// downloads no browser of its own.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** Where screenshots go (git-ignored); docs/screenshots/ holds the ones the README shows. */
export const screenshotDir = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

export interface TestBrowser {
  /** A new page in a fresh context (its own cookies), so each person signs in on their own. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Starts chromium headless. playwright-core gives it a new empty --user-data-dir of its
 * own (removed on close); the flags keep it from reaching out to Google's services (there
 * is no internet here) and from needing a sandbox or a GPU, which containers and CI lack.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `No browser at ${chromiumPath}. Run as root: apt-get install -y --no-install-recommends chromium (npm test installs it, see scripts/with-node24.mjs).`,
    );
  }
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

/** Signs in on wp-login.php and waits for the dashboard; fails with what the login page said. */
export async function logIn(page: Page, siteUrl: string, user: string, password: string): Promise<void> {
  await page.goto(`${siteUrl}/wp-login.php`);
  await page.fill('#user_login', user);
  await page.fill('#user_pass', password);
  await Promise.all([
    page.waitForURL(/\/wp-admin\//, { timeout: 20_000 }).catch(() => undefined),
    page.click('#wp-submit'),
  ]);
  if (!/\/wp-admin\//.test(page.url())) {
    // The page is there already: look at it, do not wait for an error that may never come.
    const error =
      (await page.locator('#login_error').count()) > 0
        ? await page.locator('#login_error').textContent()
        : null;
    throw new Error(
      `Could not sign in to ${siteUrl} as ${user}: ${error?.trim() || `still on ${page.url()}`}`,
    );
  }
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
