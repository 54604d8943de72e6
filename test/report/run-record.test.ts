// The record a run posts to the site's run history, built from its summary: what the
// Users → Entra ID sync screen shows, kept small whatever the run met.
import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../../src/report/result-row.ts';
import { buildRunRecord, heldListed, runTriggerOf } from '../../src/report/run-record.ts';
import { ErrorGrouper, type JobRunSummary } from '../../src/report/run-summary.ts';

function failedRow(index: number, message: string): ResultRow {
  return {
    time: '',
    runId: 'r',
    job: 'staff',
    action: 'failed',
    mode: 'failed',
    objectId: `id-${index}`,
    userPrincipalName: `user${index}@contoso.com`,
    email: '',
    wordpressId: '',
    wordpressLogin: '',
    fields: '',
    message,
  };
}

function summaryOf(overrides: Partial<JobRunSummary> = {}): JobRunSummary {
  return {
    job: 'staff',
    runId: '20261201T100000Z-abcdef',
    dryRun: false,
    startedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 61_500,
    counts: { created: 3, updated: 1 },
    errorGroups: [],
    pagesDone: 2,
    usersSoFar: 1998,
    totalCount: 5000,
    cycleComplete: false,
    cycleKind: 'full',
    cycleId: 'cycle-1',
    stopReason: undefined,
    fatalError: undefined,
    ...overrides,
  };
}

const context = { trigger: 'schedule' as const, url: 'https://github.com/contoso/sync/actions/runs/7' };

describe('the run record', () => {
  it('carries the counts, where the cycle stands, the trigger and the link to the run', () => {
    expect(buildRunRecord(summaryOf(), context)).toEqual({
      job: 'staff',
      runId: '20261201T100000Z-abcdef',
      trigger: 'schedule',
      startedAt: '2026-12-01T10:00:00.000Z',
      durationMs: 61_500,
      dryRun: false,
      outcome: 'ok',
      counts: { created: 3, updated: 1 },
      cycle: { cycleId: 'cycle-1', kind: 'full', page: 2, usersSoFar: 1998, total: 5000, complete: false },
      errors: [],
      failure: null,
      stopReason: null,
      held: null,
      approvedBy: null,
      url: 'https://github.com/contoso/sync/actions/runs/7',
    });
  });

  it('groups the errors by reason, each with a few users and their own messages', () => {
    const grouper = new ErrorGrouper();
    for (let index = 0; index < 5; index++) {
      grouper.add(failedRow(index, `"Sales ${index}" is not an email address WordPress accepts`));
    }
    const record = buildRunRecord(
      summaryOf({ counts: { failed: 5 }, errorGroups: grouper.groups() }),
      context,
    );
    expect(record?.outcome).toBe('partial');
    expect(record?.errors).toEqual([
      {
        reason: '"Sales 0" is not an email address WordPress accepts',
        count: 5,
        examples: [0, 1, 2].map((index) => ({
          user: `user${index}@contoso.com`,
          message: `"Sales ${index}" is not an email address WordPress accepts`,
        })),
      },
    ]);
  });

  it('says why a job failed, with the hint apart', () => {
    const record = buildRunRecord(
      summaryOf({
        fatalError: 'Graph refused\n  hint: grant User.Read.All',
        failure: { message: 'Graph refused', hint: 'grant User.Read.All', source: 'entra' },
      }),
      context,
    );
    expect(record?.outcome).toBe('failed');
    expect(record?.failure).toEqual({
      message: 'Graph refused',
      hint: 'grant User.Read.All',
      source: 'entra',
    });
  });

  it('lists what it holds for approval, at most a few hundred of each, with the full counts', () => {
    const removals = Array.from({ length: 1000 }, (_, index) => ({
      id: index + 10,
      login: `leaver${index}`,
      upn: `leaver${index}@contoso.com`,
    }));
    const record = buildRunRecord(
      summaryOf({
        removals: { wanted: 1000, limit: 10, managed: 2000, held: true, heldUsers: [] },
        held: {
          runId: 'held-run',
          removals,
          adoptions: [{ objectId: 'oid-1', wordpressId: 7, login: 'jdoe' }],
        },
      }),
      context,
    );
    expect(record?.outcome).toBe('held');
    expect(record?.held?.runId).toBe('held-run');
    expect(record?.held?.removals).toHaveLength(heldListed);
    expect(record?.held?.removals[0]).toEqual({ id: 10, login: 'leaver0', upn: 'leaver0@contoso.com' });
    expect(record?.held?.adoptions).toEqual([
      { objectId: 'oid-1', wordpressId: 7, login: 'jdoe', upn: null },
    ]);
    expect(record?.held).toMatchObject({ removalsTotal: 1000, adoptionsTotal: 1 });
  });

  it('stays under the site’s 32 KB per record with 80 reasons of long messages', () => {
    const grouper = new ErrorGrouper();
    for (let index = 0; index < 800; index++) {
      const kind = index % 80;
      grouper.add(
        failedRow(index, `reason ${String.fromCharCode(65 + (kind % 26))} ${'x '.repeat(kind * 10)}`),
      );
    }
    const record = buildRunRecord(
      summaryOf({ counts: { failed: 800 }, errorGroups: grouper.groups() }),
      context,
    );
    expect(record?.errors.length).toBeLessThanOrEqual(20);
    expect(JSON.stringify(record).length).toBeLessThan(32 * 1024);
  });

  it('marks a preview, and leaves out the cycle of a run for one user', () => {
    expect(buildRunRecord(summaryOf({ dryRun: true }), context)?.dryRun).toBe(true);
    expect(buildRunRecord(summaryOf({ singleUser: 'jdoe@contoso.com' }), context)?.cycle).toBeNull();
  });

  it('is not made for a job another live run held: that run records its own', () => {
    expect(buildRunRecord(summaryOf({ skippedBecause: 'run x holds the lock' }), context)).toBeUndefined();
  });
});

describe('what started the run', () => {
  it('is the workflow event in GitHub Actions', () => {
    const actions = (eventName: string | undefined) =>
      runTriggerOf({ actions: { eventName }, terminal: false });
    expect(actions('schedule')).toBe('schedule');
    expect(actions('workflow_dispatch')).toBe('dispatch');
    expect(actions('repository_dispatch')).toBe('dispatch');
    expect(actions('push')).toBe('push');
    expect(actions('pull_request')).toBe('other');
    expect(actions(undefined)).toBe('other');
  });

  it('is a person on a terminal, a container otherwise, unless ENTRA_WP_SYNC_TRIGGER says', () => {
    expect(runTriggerOf({ terminal: true })).toBe('manual');
    expect(runTriggerOf({ terminal: false })).toBe('container');
    expect(runTriggerOf({ configured: 'schedule', terminal: false })).toBe('schedule');
    expect(runTriggerOf({ configured: 'manual', actions: { eventName: 'schedule' }, terminal: false })).toBe(
      'manual',
    );
  });
});
