// Vitest global setup: one WordPress stack for the whole run, one site per worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { fakeTls } from '../fixtures/fake-graph/tls.ts';
import { startWordPressStack, type WordPressStackDescriptor } from './wordpress/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running WordPress test bed; test files use it through useWordPressSite(). */
    wordpressStack: WordPressStackDescriptor;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // One CA for the fake Graph, trusted by every worker: Node reads NODE_EXTRA_CA_CERTS
  // only at start, and workers are forked after this setup.
  const tlsDirectory = mkdtempSync(join(tmpdir(), 'entra-wp-sync-fake-graph-tls-'));
  process.env.FAKE_GRAPH_TLS_DIR = tlsDirectory;
  process.env.NODE_EXTRA_CA_CERTS = fakeTls(process.env.FAKE_GRAPH_TLS_DIR).caBundleFile;
  // One site per worker (vitest.config.ts: maxWorkers 2); WP_TESTBED_SITES overrides.
  const sites = Number(process.env.WP_TESTBED_SITES) || 2;
  const stack = await startWordPressStack({ sites, debug: process.env.WP_TESTBED_DEBUG === '1' });
  if (process.env.WP_TESTBED_VERBOSE === '1') {
    console.log(`WordPress test bed in ${stack.descriptor.root}:`, stack.timings);
  }
  project.provide('wordpressStack', stack.descriptor);
  return async () => {
    await stack.stop();
    rmSync(tlsDirectory, { recursive: true, force: true });
  };
}
