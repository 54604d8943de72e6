import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../../src/report/result-row.ts';
import { ErrorGrouper, type JobRunSummary, renderSummaryMarkdown } from '../../src/report/run-summary.ts';
import { actionsRunUrl } from '../../src/runtime/actions-run.ts';

function errorRow(index: number, message: string): ResultRow {
  return {
    time: '',
    runId: 'r',
    job: 'staff',
    action: 'failed',
    mode: 'failed',
    objectId: `id-${index}`,
    userPrincipalName: `user${index}|<b>@contoso.com`,
    email: '',
    wordpressId: '',
    wordpressLogin: '',
    fields: '',
    message,
  };
}

/** A run of 100,000 users with everything that can go wrong. */
function messyRun(): JobRunSummary {
  const grouper = new ErrorGrouper();
  for (let index = 0; index < 100_000; index++) {
    const kind = index % 80;
    grouper.add(
      errorRow(
        index,
        `reason kind ${String.fromCharCode(65 + (kind % 26))}${'x'.repeat(kind)}: the email user${index}@contoso.com is bad`,
      ),
    );
  }
  return {
    job: 'staff',
    runId: '20261123T000000Z-abcdef',
    dryRun: false,
    startedAt: '2026-11-23T00:00:00.000Z',
    durationMs: 754_000,
    counts: { created: 40_000, updated: 10_000, failed: 100_000, held: 5_000 },
    errorGroups: grouper.groups(),
    pagesDone: 101,
    usersSoFar: 100_000,
    totalCount: 100_000,
    cycleComplete: true,
    stopReason: undefined,
    fatalError: undefined,
    deleteMode: 'soft',
    removals: {
      wanted: 5_000,
      limit: 2_500,
      managed: 50_000,
      held: true,
      heldUsers: Array.from({ length: 5_000 }, (_, index) => `held_user_${index}@contoso.com`),
    },
  };
}

describe('summary.md', () => {
  it('renders a messy 100k-user run as tables, a collapsible error section and held deletions, under 1 MiB', () => {
    const markdown = renderSummaryMarkdown([messyRun()], {
      resultsUrl: actionsRunUrl({
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'contoso/intranet',
        GITHUB_RUN_ID: '42',
      }),
    });
    expect(Buffer.byteLength(markdown)).toBeLessThan(1024 * 1024);
    expect(markdown).toContain(
      '| created | updated | held | failed |\n| --- | --- | --- | --- |\n| 40000 | 10000 | 5000 | 100000 |',
    );
    expect(markdown).toContain('Cycle complete: 101 pages, 100000 of 100000 users.');
    expect(markdown).toContain('<details><summary>100000 users could not be synced, by reason</summary>');
    expect(markdown).toContain('…and 30 more reasons; see results.csv.');
    expect(markdown).toContain('### Held deletions');
    expect(markdown).toContain('- …and 4900 more (see results.csv)');
    expect(markdown).toContain('(https://github.com/contoso/intranet/actions/runs/42)');
    // Entra text cannot break a table row or inject markup.
    expect(markdown).toContain('user0\\|\\<b\\>@contoso.com');
    expect(markdown).not.toContain('<b>');
    const errorTable = markdown
      .split('\n')
      .filter((line) => line.startsWith('| ') && line.includes('reason kind'));
    expect(errorTable).toHaveLength(50);
    for (const row of errorTable) expect(row.split(/(?<!\\)\|/).length).toBe(5);
  });
});
