// For test files: the WordPress site of this vitest worker, reset to a fresh install.
import { inject } from 'vitest';
import { createStackClient } from './wordpress/client.ts';
import type { WordPressSite, WordPressStackClient } from './wordpress/types.ts';

export type { WordPressSite, WordPressStackClient } from './wordpress/types.ts';

let client: WordPressStackClient | undefined;

/** The running stack (started by test/support/global-setup.ts). */
export function wordpressStack(): WordPressStackClient {
  if (!client) {
    const descriptor = inject('wordpressStack');
    if (!descriptor)
      throw new Error('No WordPress test bed: is test/support/global-setup.ts in vitest globalSetup?');
    client = createStackClient(descriptor);
  }
  return client;
}

/** Index of the site this worker owns: VITEST_POOL_ID (1..maxWorkers) modulo the number of sites. */
export function workerSiteIndex(): number {
  const poolId = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1) || 1;
  return (poolId - 1) % wordpressStack().sites.length;
}

/** Resets this worker's site to a fresh install (users, meta, options, uploads) and returns it. */
export async function useWordPressSite(): Promise<WordPressSite> {
  return wordpressStack().resetSite(workerSiteIndex());
}

/** Runs PHP (WordPress loaded) against this worker's site; resolves with stdout. */
export function runPhpOnSite(phpCode: string): Promise<string> {
  return wordpressStack().runPhp(workerSiteIndex(), phpCode);
}

/** `Authorization` header value for HTTP Basic auth with an application password. */
export function basicAuth(user: string, appPassword: string): string {
  return `Basic ${Buffer.from(`${user}:${appPassword}`).toString('base64')}`;
}

/** Headers for REST calls as the site's administrator (application password). */
export function adminHeaders(site: WordPressSite): Record<string, string> {
  return { authorization: basicAuth(site.adminUser, site.appPassword), 'content-type': 'application/json' };
}

/** Whether the test bed runs WordPress `major.minor` or later (for behaviour core changed). */
export function wordpressIsAtLeast(major: number, minor: number): boolean {
  const [runningMajor = 0, runningMinor = 0] = wordpressStack()
    .descriptor.wordpress.version.split('.')
    .map(Number);
  return runningMajor * 100 + runningMinor >= major * 100 + minor;
}
