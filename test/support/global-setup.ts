// Vitest global setup: one WordPress stack for the whole run, one site per worker.
import type { TestProject } from 'vitest/node';
import { startWordPressStack, type WordPressStackDescriptor } from './wordpress/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running WordPress test bed; test files use it through useWordPressSite(). */
    wordpressStack: WordPressStackDescriptor;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // One site per worker (vitest.config.ts: maxWorkers 2); WP_TESTBED_SITES overrides.
  const sites = Number(process.env.WP_TESTBED_SITES) || 2;
  const stack = await startWordPressStack({ sites, debug: process.env.WP_TESTBED_DEBUG === '1' });
  if (process.env.WP_TESTBED_VERBOSE === '1') {
    console.log(`WordPress test bed in ${stack.descriptor.root}:`, stack.timings);
  }
  project.provide('wordpressStack', stack.descriptor);
  return async () => {
    await stack.stop();
  };
}
