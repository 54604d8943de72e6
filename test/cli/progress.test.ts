import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.ts';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const progressLines = (stderr: string) => stderr.split('\n').filter((line) => /users read/.test(line));

describe('progress', () => {
  it('prints a progress line at most every few seconds when piped, and the last one at the end', async () => {
    harness = await startSyncHarness(generateUsers(60, 99));
    await harness.writeConfig({ limits: { pageSize: 10 } });
    harness.env.ENTRA_WP_SYNC_PROGRESS_INTERVAL_MS = '60000';
    const result = await harness.runJobs();
    const lines = progressLines(result.stderr);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines.at(-1)).toMatch(/^staff: page 6, 60 of 60 users read, 60 written, 0 failed(, \d+\/s)?/);
  });

  it('prints JSON progress events with --log-format json, and nothing with --quiet', async () => {
    harness = await startSyncHarness(generateUsers(20, 100));
    await harness.writeConfig({ limits: { pageSize: 10 } });
    const json = await harness.runJobs(['--log-format', 'json']);
    const events = json.stderr
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.filter((event) => event.event === 'progress').map((event) => event.read)).toEqual([10, 20]);
    expect(events.every((event) => typeof event.level === 'string' && typeof event.time === 'string')).toBe(
      true,
    );
    const quiet = await harness.runJobs(['--quiet']);
    expect(progressLines(quiet.stderr)).toEqual([]);
  });

  it('draws a bar with read, written, failed, rate and ETA on a terminal', () => {
    let drawn = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          drawn += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 160, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
    );
    const progress = createProgress({
      quiet: false,
      format: 'text',
      interactive: true,
      intervalMs: 0,
      write: () => {},
      stream: terminal,
    });
    progress.update({ job: 'staff', page: 1, read: 100, total: 400, written: 90, failed: 2 });
    progress.update({ job: 'staff', page: 2, read: 200, total: 400, written: 180, failed: 3 });
    progress.stop();
    expect(drawn).toMatch(/staff \[.*\] 200\/400 read \| 180 written \| 3 failed \| \d+\/s \| ETA/);
  });
});
