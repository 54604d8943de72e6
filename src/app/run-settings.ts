// The environment's say in a run, read once when the run starts so that a bad value
// stops it before any job begins, and nothing below src/app reads the environment.
import type { Env } from '../config/env.ts';
import { readVariable } from '../config/environment.ts';
import type { RunTrigger } from '../report/run-record.ts';
import { actionsRunUrl } from '../runtime/actions-run.ts';

export interface RunSettings {
  /** Batches where the site offers /batch/v1 for users (ENTRA_WP_SYNC_BATCH). */
  batches: boolean;
  /** Sites with more users than this are matched page by page (ENTRA_WP_SYNC_FULL_INDEX_LIMIT). */
  fullIndexLimit: number | undefined;
  /** The WordPress lease's heartbeat (ENTRA_WP_SYNC_LEASE_RENEW_MS). */
  leaseRenewMs: number;
  smtpUrl: string | undefined;
  /** How a held list is approved, as the summary tells it: Action inputs or CLI flags. */
  approveVia: 'action' | 'cli';
  /** What the site's run history says started the run, when the environment says (ENTRA_WP_SYNC_TRIGGER). */
  trigger: RunTrigger | undefined;
  /** In GitHub Actions: the workflow's event, and the run's page the history links to. */
  actions: { eventName: string | undefined; runUrl: string | undefined } | undefined;
}

export function runSettingsFrom(env: Env): RunSettings {
  return {
    batches: readVariable(env, 'ENTRA_WP_SYNC_BATCH'),
    fullIndexLimit: readVariable(env, 'ENTRA_WP_SYNC_FULL_INDEX_LIMIT'),
    leaseRenewMs: readVariable(env, 'ENTRA_WP_SYNC_LEASE_RENEW_MS'),
    smtpUrl: readVariable(env, 'SMTP_URL'),
    approveVia: readVariable(env, 'GITHUB_ACTIONS') ? 'action' : 'cli',
    trigger: readVariable(env, 'ENTRA_WP_SYNC_TRIGGER'),
    actions: readVariable(env, 'GITHUB_ACTIONS')
      ? { eventName: readVariable(env, 'GITHUB_EVENT_NAME'), runUrl: actionsRunUrl(env) }
      : undefined,
  };
}
