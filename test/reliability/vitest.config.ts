// `npm run test:reliability`: the reliability suites with the default reporter, plus the
// reporter that writes docs/RELIABILITY.md; case names are kept whole (vitest shortens
// values put into test names to 40 characters by default).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';
import ReliabilityReporter from './reliability-reporter.ts';

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/reliability/**/*.test.ts'],
    taskTitleValueFormatTruncate: 0,
    reporters: ['default', new ReliabilityReporter({ enabled: true })],
  },
});
